"""Callers on the request path: who is calling (before the view), what the call may do (once the
model is known), and what it cost (at its real end). The store itself is core/callers/.

- Who: the owner's INVOKE_TOKEN is the owner (unlimited); a caller key (`qfc_...`) is its caller;
  with CALLER_NAME_HEADER, the caller FC's JWT trigger vouched for by name. Without INVOKE_TOKEN the
  function stays open as before: a call with no caller credentials is the owner's (so set INVOKE_TOKEN
  to make caller keys the only way in besides the owner's own token).
- Before the body is read (web/services.py `take_slots`): the caller's share of this instance
  (`CallerInFlight`: its max_in_flight, else CALLER_MAX_IN_FLIGHT) and its own limits, checked but
  not counted (`store.precheck`), so a caller at its limits holds no slot or thread.
- Admit: the caller's limits and the model's account-wide MODEL_LIMITS, counted atomically by the
  store, with what the call can spend reserved against tpm and budget. The owner's calls are checked
  against MODEL_LIMITS too (they spend the same account), but a store that cannot be reached never
  stops the owner. A tokenizer call counts against its caller's rpm only.
- Settle: exactly once per admitted call, with the usage known at its end (the reservation released
  in the same step); the request's log line gets the caller and its tokens (caller, input_tokens,
  output_tokens, reasoning_tokens).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Mapping

from flask import g

from core.callers import OWNER, Caller, CallerLimitExceeded, CallerStore, CallerStoreUnavailable, Tokens
from web.tracking import note

log = logging.getLogger("qwenfc")


def set_caller(caller: Caller | None) -> None:
    """Remember who this request comes from (None: no store, the owner as before)."""
    g.qwenfc_caller = caller
    if caller is not None:
        note(caller=caller.name)


def current_caller() -> Caller | None:
    return g.get("qwenfc_caller")


class Admission:
    """One admitted call: `settle` records its usage once, whatever path ends the call, and releases
    what the call had reserved (core/reservation.py)."""

    def __init__(self, store: CallerStore, caller: Caller, model: str, reservation: str | None = None) -> None:
        self._store, self.caller, self.model, self.reservation = store, caller, model, reservation
        self._settled = False
        self._lock = threading.Lock()

    def settle(self, usage: Mapping[str, Any] | None) -> None:
        with self._lock:
            if self._settled:
                return
            self._settled = True
        tokens = Tokens.from_usage(usage)
        note(caller=self.caller.name, input_tokens=tokens.input, output_tokens=tokens.output,
             reasoning_tokens=tokens.reasoning)
        # Never raises (a failure is logged with the tokens; the reservation then lapses on its own).
        self._store.settle(self.caller, self.model, usage, self.reservation)


def _reservation(store: CallerStore, caller: Caller, model: str, reserve: Callable[[], int] | None) -> int:
    """What the call can spend, counted only when a limit on tokens needs it (counting costs CPU)."""
    return reserve() if reserve is not None and store.reserves(caller, model) else 0


def admit_caller(store: CallerStore | None, caller: Caller | None, model: str,
                 reserve: Callable[[], int] | None = None, *, local: bool = False) -> Admission | None:
    """Count this call against its caller's limits and the model's MODEL_LIMITS, or refuse it (the
    store's 401/403/429/503), reserving what `reserve()` says it can spend. None when there is no
    store: nothing to count or settle. `local`: a call answered here (the tokenizer): it counts
    against the caller's rpm, spends nothing, and leaves no usage row; the owner's is not counted."""
    if store is None or caller is None:
        return None
    if caller.name == OWNER.name:
        if local:
            return None
        reservation = None
        if store.limits_model(model):
            try:
                reservation = store.admit(OWNER, model, _reservation(store, OWNER, model, reserve))
            except CallerStoreUnavailable:
                # The owner's token works without the store (it is the way in while the store is down).
                log.error("MODEL_LIMITS not checked for the owner's call to %r: the caller store is unreachable", model)
        return Admission(store, OWNER, model, reservation)
    if local:
        store.admit(caller, model, model_limits=False)
        return None
    reservation = store.admit(caller, model, _reservation(store, caller, model, reserve))
    return Admission(store, caller, model, reservation)


class CallerInFlight:
    """Each caller's share of this instance: at most its `max_in_flight` (else CALLER_MAX_IN_FLIGHT)
    calls at once, counted from before the body is read to the call's real end, so no caller can hold
    every MAX_IN_FLIGHT slot (or thread) with slow bodies. The owner is bounded by MAX_IN_FLIGHT only."""

    def __init__(self, default_limit: int) -> None:
        self._default = default_limit
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, caller: Caller | None, then: Callable[[], Any]) -> Any:
        """Take the caller's share, then `then()` (the MAX_IN_FLIGHT slot, and the caller's own limits):
        a slot whose `release` frees both, once. A refusal on the way holds nothing."""
        if caller is None or caller.name == OWNER.name:
            return then()
        limit = caller.max_in_flight or self._default
        with self._lock:
            running = self._running.get(caller.name, 0)
            if running >= limit:
                raise CallerLimitExceeded(
                    f"caller {caller.name!r} has {running} calls in progress on this instance, its limit "
                    f"(max_in_flight, else CALLER_MAX_IN_FLIGHT); retry when one has ended",
                    limit="in_flight", retry_after_s=1)
            self._running[caller.name] = running + 1
        try:
            return _BothSlots(then(), lambda: self._release(caller.name))
        except BaseException:
            self._release(caller.name)
            raise

    def _release(self, name: str) -> None:
        with self._lock:
            left = self._running.get(name, 1) - 1
            if left > 0:
                self._running[name] = left
            else:
                self._running.pop(name, None)


class _BothSlots:
    """A MAX_IN_FLIGHT slot and a caller's share, released together, once (any number of calls)."""

    __slots__ = ("_slot", "_share", "_lock")

    def __init__(self, slot: Any, share: Callable[[], None]) -> None:
        self._slot, self._share, self._lock = slot, share, threading.Lock()

    def release(self) -> None:
        with self._lock:
            share, self._share = self._share, None
        self._slot.release()
        if share is not None:
            share()
