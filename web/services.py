"""What the request path needs from the app: its config, its upstream client and the owner's
rules, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from core.config import Config
from core.policy import apply_owner_policy
from core.types import Call
from core.upstream import QwenUpstream

EXTENSION_KEY = "qwenfc"


@dataclass(frozen=True)
class Services:
    config: Config
    upstream: QwenUpstream

    def admit(self, call: Call) -> tuple[Call, dict[str, Any]]:
        """The owner's rules for one call: the call to make, and notes for its log line."""
        return apply_owner_policy(call, self.config)


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
