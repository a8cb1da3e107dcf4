"""The caller store interface, the refusal reasons both stores share, and choosing a store from config."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Mapping

from core.callers.errors import CallerKeyRevoked, CallerLimitExceeded, ModelNotAllowedForCaller
from core.callers.model import OWNER, Caller
from core.callers.pricing import Price
from core.parameters import MODEL_NAME_MAX_LENGTH

WINDOW_S = 60  # rpm and tpm count over the last 60 seconds, in one-second buckets
# How long an unsettled reservation lives (an instance that died mid-call never settles): longer than
# any call may last (CALL_DEADLINE_S, set by build_store), so a live call's reservation never lapses.
RESERVATION_TTL_S = 660
# How long a caller refused because its calls in progress hold the rest of a limit is asked to wait.
RESERVED_RETRY_AFTER_S = 1

UNITS = {"rpm": "requests per minute", "tpm": "tokens per minute"}


@dataclass(frozen=True)
class UsageRow:
    """One caller's use of one model on one day (UTC)."""

    caller: str
    model: str
    day: str  # YYYY-MM-DD
    requests: int
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost: float | None  # CNY, estimated; None when the model has no price
    # Of the input tokens: served from the context cache, and written to it (explicit cache).
    cached_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "cost": None if self.cost is None else round(self.cost, 6)}


class CallerStore(abc.ABC):
    """Where callers, their counters and their usage live. Every method is safe from many threads."""

    @abc.abstractmethod
    def find(self, key: str) -> Caller | None:
        """The caller a key belongs to; None for an unknown or revoked key.
        Raises CallerStoreUnavailable when the store cannot be asked (fail-closed)."""

    @abc.abstractmethod
    def find_by_name(self, name: str) -> Caller | None:
        """The active caller named so (for an identity FC's JWT trigger vouched for, with no key);
        None for an unknown or revoked name. Raises CallerStoreUnavailable like find."""

    @abc.abstractmethod
    def admit(self, caller: Caller, model: str, reserve_tokens: int = 0, *, model_limits: bool = True) -> str | None:
        """Count one request of `caller` for `model`, or refuse it: ModelNotAllowedForCaller (403),
        CallerLimitExceeded (429), CallerKeyRevoked (401), CallerStoreUnavailable (503). Atomic: the
        limits are checked and the request counted in one step, across every instance.

        `reserve_tokens` (what the call can spend, core/reservation.py) is held against the caller's
        tpm and budget and the model's MODEL_LIMITS tpm until `settle` releases it: a call is admitted
        while what was spent plus what is reserved is under each limit. Returns the reservation's id
        (None when nothing was reserved). A reservation not settled (an instance that died mid-call)
        expires after `reservation_ttl_s`. `model_limits=False`: a call answered here (the tokenizer),
        which counts against the caller's rpm but not the model's account-wide MODEL_LIMITS."""

    @abc.abstractmethod
    def precheck(self, caller: Caller) -> None:
        """Refuse now (like `admit`) a caller whose own limits would refuse any call: revoked, budget
        spent or all reserved, rpm or tpm full. Counts nothing, so rpm stays exact: `admit` still
        counts. Used before a call's body is read (the model is not known yet)."""

    @abc.abstractmethod
    def settle(self, caller: Caller, model: str, usage: Mapping[str, Any] | None, reservation: str | None = None) -> None:
        """Record what an admitted call used (DashScope's or OpenAI's usage dict; None or {} when
        nothing is known) and release its reservation. Call exactly once per admitted call. Never
        raises: a store failure here is logged with the tokens, since the call has already been served."""

    @abc.abstractmethod
    def healthy(self) -> bool:
        """Whether the store answers now (for /health)."""

    @abc.abstractmethod
    def add(self, name: str, *, rpm: int | None = None, tpm: int | None = None, budget_tokens: int | None = None,
            models: tuple[str, ...] | None = None, max_in_flight: int | None = None) -> tuple[Caller, str]:
        """A new caller and its key (the only time the key exists in clear)."""

    @abc.abstractmethod
    def revoke(self, name: str) -> bool:
        """Revoke a caller's key; False when there is no such active caller."""

    @abc.abstractmethod
    def callers(self) -> list[tuple[Caller, dict[str, Any]]]:
        """Every caller, with its state: {"revoked": bool, "spent_tokens": int}."""

    @abc.abstractmethod
    def usage(self, name: str | None = None) -> list[UsageRow]:
        """Usage per caller, model and day, sorted; only `name`'s when given."""

    def limits_model(self, model: str) -> bool:
        """Whether MODEL_LIMITS names `model` (the owner's calls are checked only then)."""
        return model in getattr(self, "_model_limits", {})

    def reserves(self, caller: Caller, model: str) -> bool:
        """Whether a call of `caller` to `model` meets a limit on tokens (so what it can spend is reserved)."""
        caller_limited = caller.name != OWNER.name and (caller.tpm is not None or caller.budget_tokens is not None)
        return caller_limited or "tpm" in getattr(self, "_model_limits", {}).get(model, {})

    def checks_before_body(self, caller: Caller) -> bool:
        """Whether `precheck` has anything to check for `caller` (it costs the store a round trip)."""
        return caller.name != OWNER.name and any(v is not None for v in (caller.rpm, caller.tpm, caller.budget_tokens))

    @property
    @abc.abstractmethod
    def kind(self) -> str:
        """"redis" or "memory" (for /health and logs)."""


def bounded_model(model: str) -> str:
    """The model name as a usage row keeps it: requests name a plausible model (core/parameters.py
    refuses others), and a row never holds more than MODEL_NAME_MAX_LENGTH characters of one."""
    return model[:MODEL_NAME_MAX_LENGTH]


def check_model(caller: Caller, model: str) -> None:
    if not caller.may_use(model):
        raise ModelNotAllowedForCaller(caller.name, model, caller.models or ())


def refusal(caller: Caller, model: str, limit: str, retry_after_s: int, value: int) -> Exception:
    """The error for a limit the atomic check reported as reached."""
    if limit == "revoked":
        return CallerKeyRevoked()
    if limit == "budget":
        # No Retry-After: a spent budget does not come back by waiting (clients would retry in vain).
        return CallerLimitExceeded(
            f"caller {caller.name!r} has spent its budget of {value} tokens; ask the function's owner for more",
            limit="budget", retry_after_s=None)
    if limit == "budget_reserved":
        return CallerLimitExceeded(
            f"the rest of caller {caller.name!r}'s budget of {value} tokens is reserved by its calls in progress; "
            f"retry after {retry_after_s} s, when they have ended", limit="budget_reserved", retry_after_s=retry_after_s)
    if limit.startswith("model_"):
        unit = UNITS[limit[len("model_"):]]
        message = (f"model {model!r} is at this function's account-wide limit of {value} {unit} "
                   f"(MODEL_LIMITS); retry after {retry_after_s} s")
    else:
        message = f"caller {caller.name!r} is at its limit of {value} {UNITS[limit]}; retry after {retry_after_s} s"
    return CallerLimitExceeded(message, limit=limit, retry_after_s=retry_after_s)


def price_table(prices: Mapping[str, Price] | None) -> Mapping[str, Price]:
    from core.callers.pricing import DEFAULT_PRICES
    return DEFAULT_PRICES if prices is None else prices
