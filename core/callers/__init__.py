"""Callers: one key per calling system, with limits and usage shared by every instance.

How the request path uses it (no Flask here; the web layer wires it in):

    store = build_store(redis_url=config.redis_url, callers=config.callers, model_limits=config.model_limits,
                        model_prices=config.model_prices, fail_open=config.callers_fail_open)  # once; None: no callers
    # per request, after reading `Authorization: Bearer <token>`:
    if token in config.invoke_tokens: ...          # the owner: unlimited, as before, store not consulted
    elif store and looks_like_key(token):
        caller = store.find(token)                # None -> 401 as for a wrong token; may raise 503
        store.precheck(caller)                    # before the body is read: counts nothing; 429/401/503
        reservation = store.admit(caller, model, reserve_tokens)  # before the upstream call; 403/429/401/503
        try: ...upstream call...
        finally: store.settle(caller, model, usage_known_so_far, reservation)   # exactly once per admitted call

- `admit` counts the request (rpm) atomically with checking every limit: the caller's rpm, tpm and
  budget, and MODEL_LIMITS for the model (account-wide, shared by every caller).
- `settle` must run at the call's real end: after the full answer, after a stream's last chunk, when
  the client went away mid-stream (with the usage known so far), and after an upstream error (usage
  None: the request is counted with 0 tokens). It adds the tokens to the tpm windows, the budget and
  the day's usage with an estimated cost. It never raises.
- tpm and budget (and MODEL_LIMITS' tpm) count what is spent plus what calls in progress reserved:
  each call reserves at admission what it can spend (core/reservation.py: its counted input plus
  max_tokens, or a default), and settling swaps the reservation for the real usage, atomically. A
  call is admitted while spent + reserved is under the limit, so however many run at once, the
  limit is overrun by at most one call. Reservations are never usage; one not settled (its
  instance died) expires after `reservation_ttl_s` (CALL_DEADLINE_S + 60 s).
- A local call (the tokenizer: `admit(..., model_limits=False)`, no settle) counts against the
  caller's rpm only. Each caller's calls at once per instance (max_in_flight) are web/callers.py's.
- Errors are `core.errors.ApiError`s (see errors.py): 401 revoked, 403 model not in the caller's
  list, 429 with Retry-After (code rate_limit_exceeded, or insufficient_quota for a spent budget,
  which has no Retry-After), 503 when the store cannot be reached (fail closed, within ~0.3 s).
- `store.find_by_name(name)` instead of `find` when FC's JWT trigger vouches for the caller's name in a
  header (no key): same limits and usage.
- `store.healthy()` for /health; `store.kind` is "redis" or "memory". The memory store's limits
  are per instance.
"""

from core.callers.errors import CallerKeyRevoked, CallerLimitExceeded, CallerStoreUnavailable, ModelNotAllowedForCaller
from core.callers.model import OWNER, Caller, Tokens, key_hash, looks_like_key, new_key
from core.callers.build import build_store
from core.callers.store import CallerStore, UsageRow

__all__ = [
    "Caller", "CallerKeyRevoked", "CallerLimitExceeded", "CallerStore", "CallerStoreUnavailable",
    "ModelNotAllowedForCaller", "OWNER", "Tokens", "UsageRow", "build_store", "key_hash", "looks_like_key", "new_key",
]
