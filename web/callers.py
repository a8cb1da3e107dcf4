"""Callers on the request path: who is calling (before the view), what the call may do (once the
model is known), and what it cost (at its real end). The store itself is core/callers/.

- Who: the owner's INVOKE_TOKEN is the owner (unlimited); a caller key (`qfc_...`) is its caller;
  with CALLER_NAME_HEADER, the caller FC's JWT trigger vouched for by name. Without INVOKE_TOKEN the
  function stays open as before: a call with no caller credentials is the owner's (so set INVOKE_TOKEN
  to make caller keys the only way in besides the owner's own token).
- Admit: the caller's limits and the model's account-wide MODEL_LIMITS, counted atomically by the
  store. The owner's calls are checked against MODEL_LIMITS too (they spend the same account), but a
  store that cannot be reached never stops the owner.
- Settle: exactly once per admitted call, with the usage known at its end; the request's log line
  gets the caller and its tokens (caller, input_tokens, output_tokens, reasoning_tokens).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Mapping

from flask import g

from core.callers import OWNER, Caller, CallerStore, CallerStoreUnavailable, Tokens
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
    """One admitted call: `settle` records its usage once, whatever path ends the call."""

    def __init__(self, store: CallerStore, caller: Caller, model: str) -> None:
        self._store, self.caller, self.model = store, caller, model
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
        self._store.settle(self.caller, self.model, usage)  # never raises (a failure is logged with the tokens)


def admit_caller(store: CallerStore | None, caller: Caller | None, model: str) -> Admission | None:
    """Count this call against its caller's limits and the model's MODEL_LIMITS, or refuse it (the
    store's 401/403/429/503). None when there is no store: nothing to count or settle."""
    if store is None or caller is None:
        return None
    if caller.name == OWNER.name:
        if store.limits_model(model):
            try:
                store.admit(OWNER, model)
            except CallerStoreUnavailable:
                # The owner's token works without the store (it is the way in while the store is down).
                log.error("MODEL_LIMITS not checked for the owner's call to %r: the caller store is unreachable", model)
        return Admission(store, OWNER, model)
    store.admit(caller, model)
    return Admission(store, caller, model)
