"""What the request path needs from the app: its config, its upstream client, the owner's rules
and the caller store, built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from core.callers import Caller, CallerStore
from core.config import Config
from core.policy import apply_owner_policy
from core.types import Call
from core.upstream import QwenUpstream
from web.callers import Admission, admit_caller

EXTENSION_KEY = "qwenfc"


@dataclass(frozen=True)
class Services:
    config: Config
    upstream: QwenUpstream
    callers: CallerStore | None = None  # REDIS_URL or CALLERS (core/callers/); None: the owner's token only

    def admit(self, call: Call) -> tuple[Call, dict[str, Any]]:
        """The owner's rules for one call: the call to make, and notes for its log line."""
        return apply_owner_policy(call, self.config)

    def admit_caller(self, caller: Caller | None, model: str) -> Admission | None:
        """The caller's limits and MODEL_LIMITS for one call (counted now); settle the result once."""
        return admit_caller(self.callers, caller, model)


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
