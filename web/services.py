"""What the request path needs from the app: its config, its upstream client, the model rules, the
owner's rules and the caller store, built once per app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from core.callers import Caller, CallerStore
from core.config import Config
from core.errors import ApiError
from core.models import ModelRules
from core.policy import apply_owner_policy
from core.routing import route_call
from core.reservation import held_to_reservation, tokens_to_reserve
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

    def admit_caller(self, caller: Caller | None, call: Call,
                     notes: dict[str, Any] | None = None) -> tuple[Admission | None, Call]:
        """The caller's limits and MODEL_LIMITS for one call (counted now, with what it can spend
        reserved: core/reservation.py); settle the result once. A tokenizer call counts against the
        caller's rpm only. `notes`: the owner's rules' notes (their input count is reused). Returns
        the admission and the call to make (held to its reservation when one is taken)."""
        if isinstance(call, TokenizationCall):
            return admit_caller(self.callers, caller, call.model, local=True), call
        store = self.callers
        if (isinstance(call, GenerationCall) and store is not None and caller is not None
                and store.reserves(caller, call.model)):
            # Held to what it reserves, so that it cannot spend more (core/reservation.py).
            call = held_to_reservation(call, self.rules.thinks(call.model, call.parameters))
        counted = (notes or {}).get("input_tokens_counted")
        return admit_caller(store, caller, call.model, lambda: tokens_to_reserve(call, counted)), call

    def count_unread_body(self, caller: Caller | None) -> None:
        """A call whose body did not all arrive in time (408) counts against its caller's rpm, as a
        tokenizer call does (no usage row). A limit it meets or a store that cannot be asked changes
        nothing: the caller gets its 408 either way."""
        if self.callers is None or caller is None:
            return
        try:
            # Counted as a call to a model it may use (the body, and with it the model, never came).
            admit_caller(self.callers, caller, caller.models[0] if caller.models else "", local=True)
        except ApiError:
            pass


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
