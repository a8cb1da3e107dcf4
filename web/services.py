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
from core.reservation import tokens_to_reserve
from core.types import Call, GenerationCall, TokenizationCall
from core.upstream import Upstream
from web.callers import Admission, CallerInFlight, admit_caller

EXTENSION_KEY = "qwenfc"


@dataclass(frozen=True)
class Services:
    config: Config
    upstream: Upstream  # QwenUpstream; an in-process fake in tests of the request path
    # The built-in model rules plus MULTIMODAL_MODELS / TEXT_MODELS (core/models.py).
    rules: ModelRules = field(default=ModelRules())
    callers: CallerStore | None = None  # REDIS_URL or CALLERS (core/callers/); None: the owner's token only
    # Each caller's share of this instance (CALLER_MAX_IN_FLIGHT, a caller's max_in_flight).
    caller_in_flight: CallerInFlight = field(default_factory=lambda: CallerInFlight(16))

    @classmethod
    def build(cls, config: Config, upstream: Upstream, callers: CallerStore | None = None) -> "Services":
        return cls(config=config, upstream=upstream, rules=ModelRules.from_config(config), callers=callers,
                   caller_in_flight=CallerInFlight(config.caller_in_flight_limit))

    def take_slots(self, caller: Caller | None) -> Any:
        """Before a call's body is read: the caller's share of this instance, the caller's own limits
        (checked, not counted: `admit_caller` counts), then a MAX_IN_FLIGHT slot. One `release` frees
        all it holds; a refusal (429, or 503 for a store that cannot be asked) holds nothing."""
        store = self.callers

        def caller_limits_then_slot() -> Any:
            if store is not None and caller is not None and store.checks_before_body(caller):
                store.precheck(caller)
            return self.upstream.admit()

        return self.caller_in_flight.take(caller, caller_limits_then_slot)

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

    def admit_caller(self, caller: Caller | None, call: Call, notes: dict[str, Any] | None = None) -> Admission | None:
        """The caller's limits and MODEL_LIMITS for one call (counted now, with what it can spend
        reserved: core/reservation.py); settle the result once. A tokenizer call counts against the
        caller's rpm only. `notes`: the owner's rules' notes (their input count is reused)."""
        if isinstance(call, TokenizationCall):
            return admit_caller(self.callers, caller, call.model, local=True)
        counted = (notes or {}).get("input_tokens_counted")
        return admit_caller(self.callers, caller, call.model, lambda: tokens_to_reserve(call, counted))


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
