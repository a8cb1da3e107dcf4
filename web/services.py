"""What the request path needs from the app: its config, its upstream client, the model rules, the
owner's rules and the caller store, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from core.callers import Caller, CallerStore
from core.config import Config
from core.models import ModelRules
from core.policy import apply_owner_policy
from core.routing import route_call
from core.types import Call, GenerationCall
from core.upstream import Upstream
from web.callers import Admission, admit_caller

EXTENSION_KEY = "qwenfc"


@dataclass(frozen=True)
class Services:
    config: Config
    upstream: Upstream  # QwenUpstream; an in-process fake in tests of the request path
    # The built-in model rules plus MULTIMODAL_MODELS / TEXT_MODELS (core/models.py).
    rules: ModelRules = field(default=ModelRules())
    callers: CallerStore | None = None  # REDIS_URL or CALLERS (core/callers/); None: the owner's token only

    @classmethod
    def build(cls, config: Config, upstream: Upstream, callers: CallerStore | None = None) -> "Services":
        return cls(config=config, upstream=upstream, rules=ModelRules.from_config(config), callers=callers)

    def init_app(self, app: Flask) -> None:
        """Make these the app's services (`services()` finds them), as a Flask extension does."""
        app.extensions[EXTENSION_KEY] = self

    def admit(self, call: Call) -> tuple[Call, dict[str, Any]]:
        """The owner's rules, then the model's (endpoint, media, thinking, streaming: core/routing.py),
        for one call: the call to make, and notes for its log line. Embedding and tokenizer calls
        (the native door) meet the owner's rules only."""
        call, notes = apply_owner_policy(call, self.config)
        if not isinstance(call, GenerationCall):
            return call, notes
        call, routing_notes = route_call(call, self.rules)
        return call, {**notes, **routing_notes}

    def admit_caller(self, caller: Caller | None, model: str) -> Admission | None:
        """The caller's limits and MODEL_LIMITS for one call (counted now); settle the result once."""
        return admit_caller(self.callers, caller, model)


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
