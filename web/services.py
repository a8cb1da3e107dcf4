"""What the request path needs from the app: its config, its upstream client, the model rules and
the owner's rules, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from core.config import Config
from core.models import ModelRules
from core.policy import apply_owner_policy
from core.routing import route_call
from core.types import GenerationCall
from core.upstream import QwenUpstream

EXTENSION_KEY = "qwenfc"


@dataclass(frozen=True)
class Services:
    config: Config
    upstream: QwenUpstream
    # The built-in model rules plus MULTIMODAL_MODELS / TEXT_MODELS (core/models.py).
    rules: ModelRules = field(default=ModelRules())

    @classmethod
    def build(cls, config: Config, upstream: QwenUpstream) -> "Services":
        return cls(config=config, upstream=upstream, rules=ModelRules.from_config(config))

    def admit(self, call: GenerationCall) -> tuple[GenerationCall, dict[str, Any]]:
        """The owner's rules, then the model's (endpoint, media, thinking, streaming: core/routing.py),
        for one call: the call to make, and notes for its log line."""
        call, notes = apply_owner_policy(call, self.config)
        call, routing_notes = route_call(call, self.rules)
        return call, {**notes, **routing_notes} if routing_notes else notes


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
