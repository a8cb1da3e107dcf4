"""The caller store interface, the refusal reasons both stores share, and choosing a store from config."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Mapping

from core.callers.errors import CallerKeyRevoked, CallerLimitExceeded, ModelNotAllowedForCaller
from core.callers.model import Caller
from core.callers.pricing import Price

WINDOW_S = 60  # rpm and tpm count over the last 60 seconds, in one-second buckets

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
    def admit(self, caller: Caller, model: str) -> None:
        """Count one request of `caller` for `model`, or refuse it: ModelNotAllowedForCaller (403),
        CallerLimitExceeded (429), CallerKeyRevoked (401), CallerStoreUnavailable (503). Atomic: the
        limits are checked and the request counted in one step, across every instance."""

    @abc.abstractmethod
    def settle(self, caller: Caller, model: str, usage: Mapping[str, Any] | None) -> None:
        """Record what an admitted call used (DashScope's or OpenAI's usage dict; None or {} when
        nothing is known). Call exactly once per admitted call. Never raises: a store failure here
        is logged with the tokens, since the call has already been served."""

    @abc.abstractmethod
    def healthy(self) -> bool:
        """Whether the store answers now (for /health)."""

    @abc.abstractmethod
    def add(self, name: str, *, rpm: int | None = None, tpm: int | None = None,
            budget_tokens: int | None = None, models: tuple[str, ...] | None = None) -> tuple[Caller, str]:
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

    @property
    @abc.abstractmethod
    def kind(self) -> str:
        """"redis" or "memory" (for /health and logs)."""


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
