"""Callers shared by every instance through Redis (or Alibaba Cloud Tair, which speaks its protocol).

Nothing is cached locally, so a revoke counts from the very next lookup on every instance. Every key
starts with the hash tag `{qfc}`, so the multi-key scripts also run on a cluster (one slot).
Redis unreachable: fail closed (CallerStoreUnavailable, 503) within `timeout_s`, since redis-py's
retries are turned off; with fail_open, callers already seen by this instance pass unlimited, and
every such pass is logged loudly.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, TypeVar

import redis

from core.callers import redis_scripts
from core.callers.errors import CallerStoreUnavailable
from core.callers.model import OWNER, Caller, Tokens, check_name, key_hash, new_key
from core.callers.pricing import Price, estimated_cost
from core.callers.store import RESERVATION_TTL_S, CallerStore, UsageRow, bounded_model, check_model, price_table, refusal
from core.redis_connection import connect

log = logging.getLogger("qwenfc")
T = TypeVar("T")
PREFIX = "{qfc}:"
USAGE_TTL_S = 400 * 86400  # a bit over a year of daily usage, for billing by month or by year
LAST_KNOWN_MAX = 10_000


def _caller_from(fields: Mapping[str, str]) -> Caller:
    def number(name: str) -> int | None:
        return int(fields[name]) if fields.get(name) else None

    models = fields.get("models")
    return Caller(fields["name"], number("rpm"), number("tpm"), number("budget_tokens"),
                  tuple(models.split(",")) if models else None, fields.get("created", ""), number("max_in_flight"))


class RedisCallerStore(CallerStore):
    kind = "redis"

    def __init__(self, url: str, *, model_limits: Mapping[str, Mapping[str, int]] | None = None,
                 prices: Mapping[str, Price] | None = None, fail_open: bool = False, timeout_s: float = 0.3,
                 reservation_ttl_s: int = RESERVATION_TTL_S) -> None:
        self._reservation_ttl_s = reservation_ttl_s
        self._redis = connect(url, timeout_s)
        self._model_limits = dict(model_limits or {})
        self._prices = price_table(prices)
        self._fail_open = fail_open
        self._find = self._redis.register_script(redis_scripts.FIND)
        self._admit = self._redis.register_script(redis_scripts.ADMIT)
        self._settle = self._redis.register_script(redis_scripts.SETTLE)
        # Only read while Redis is down and fail_open is set: revocation cannot happen then anyway.
        self._last_known: OrderedDict[str, Caller] = OrderedDict()
        self._last_known_lock = threading.Lock()
        self._last_warning = 0.0

    def _call(self, operation: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except redis.RedisError as error:  # down, timed out, loading, read-only after a failover...
            log.error("caller store (Redis) failed during %s: %s: %s", operation, type(error).__name__, error)
            raise CallerStoreUnavailable() from None

    def _warn_open(self, what: str) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 1.0:  # loud, but one line a second, not one per call
            self._last_warning = now
            log.warning("CALLER LIMITS NOT ENFORCED: Redis is unreachable and CALLERS_FAIL_OPEN is set: %s", what)

    def find(self, key: str) -> Caller | None:
        digest = key_hash(key)
        try:
            fields = self._call("find", lambda: self._find(keys=[f"{PREFIX}key:{digest}"], args=[PREFIX]))
        except CallerStoreUnavailable:
            known = self._last_known.get(digest) if self._fail_open else None
            if known is not None:
                self._warn_open("a known caller key passes unchecked")
                return known
            raise
        if not fields:
            with self._last_known_lock:
                self._last_known.pop(digest, None)
            return None
        record = dict(zip(fields[::2], fields[1::2]))
        if record.get("revoked"):
            return None
        caller = _caller_from(record)
        if self._fail_open:
            with self._last_known_lock:
                self._last_known[digest] = caller
                self._last_known.move_to_end(digest)
                while len(self._last_known) > LAST_KNOWN_MAX:
                    self._last_known.popitem(last=False)
        return caller

    def find_by_name(self, name: str) -> Caller | None:
        record = self._call("find", lambda: self._redis.hgetall(f"{PREFIX}caller:{name}"))
        return _caller_from(record) if record and not record.get("revoked") else None

    def _check(self, caller: Caller, model: str, args: list[Any], what: str) -> bool:
        """Run ADMIT; False when the store is down and fail_open let the call through unchecked."""
        keys = [f"{PREFIX}caller:{caller.name}", f"{PREFIX}rpm:{caller.name}", f"{PREFIX}tpm:{caller.name}",
                f"{PREFIX}model-rpm:{model}", f"{PREFIX}model-tpm:{model}",
                f"{PREFIX}reserved:{caller.name}", f"{PREFIX}model-reserved:{model}"]
        try:
            reason, retry_after, value = self._call("admit", lambda: self._admit(keys=keys, args=args))
        except CallerStoreUnavailable:
            if self._fail_open:
                self._warn_open(f"caller {caller.name!r} {what} without checking its limits")
                return False
            raise
        if reason != "ok":
            raise refusal(caller, model, reason, int(retry_after), int(value))
        return True

    def admit(self, caller: Caller, model: str, reserve_tokens: int = 0, *, model_limits: bool = True) -> str | None:
        check_model(caller, model)
        limits = self._model_limits.get(model, {}) if model_limits else {}
        reservation = f"{reserve_tokens}:{uuid.uuid4().hex}" if reserve_tokens > 0 else ""
        args = [limits.get("rpm", 0), limits.get("tpm", 0), int(caller.name == OWNER.name), max(0, reserve_tokens),
                reservation.partition(":")[2], self._reservation_ttl_s, 0]
        checked = self._check(caller, model, args, f"admitted to {model!r}")
        return (reservation or None) if checked else None

    def precheck(self, caller: Caller) -> None:
        self._check(caller, "", [0, 0, int(caller.name == OWNER.name), 0, "", self._reservation_ttl_s, 1],
                    "passed the check before its body")

    def settle(self, caller: Caller, model: str, usage: Mapping[str, Any] | None, reservation: str | None = None) -> None:
        tokens = Tokens.from_usage(usage)
        model = bounded_model(model)
        cost = estimated_cost(model, tokens, self._prices)
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        usage_key = f"{PREFIX}usage:{day}:{caller.name}:{model}"
        keys = [f"{PREFIX}caller:{caller.name}", f"{PREFIX}tpm:{caller.name}", f"{PREFIX}model-tpm:{model}",
                usage_key, f"{PREFIX}usage-index", f"{PREFIX}reserved:{caller.name}", f"{PREFIX}model-reserved:{model}"]
        args = [tokens.total, tokens.input, tokens.output, tokens.reasoning, "" if cost is None else repr(cost),
                int(caller.tpm is not None), int("tpm" in self._model_limits.get(model, {})),
                caller.name, model, day, USAGE_TTL_S, reservation or "", tokens.cached, tokens.cache_creation]
        try:
            self._call("settle", lambda: self._settle(keys=keys, args=args))
        except CallerStoreUnavailable:
            # The call is served already: say in the log what was not recorded, so SLS still has it.
            # (Its reservation, if any, lapses after reservation_ttl_s.)
            log.error("usage NOT recorded for caller %r model %r: input %d, output %d, reasoning %d tokens",
                      caller.name, model, tokens.input, tokens.output, tokens.reasoning)

    def healthy(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False

    def add(self, name: str, *, rpm: int | None = None, tpm: int | None = None, budget_tokens: int | None = None,
            models: tuple[str, ...] | None = None, max_in_flight: int | None = None) -> tuple[Caller, str]:
        check_name(name)
        key = new_key()
        digest = key_hash(key)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        caller = Caller(name, rpm, tpm, budget_tokens, models, created, max_in_flight)
        record = {"name": name, "rpm": rpm or "", "tpm": tpm or "", "budget_tokens": budget_tokens or "",
                  "models": ",".join(models) if models else "", "created": created, "key_hash": digest,
                  "max_in_flight": max_in_flight or "",
                  "spent": 0, "revoked": ""}
        caller_key = f"{PREFIX}caller:{name}"

        def write(pipe: redis.client.Pipeline) -> None:
            old = pipe.hmget(caller_key, "key_hash", "revoked")
            if old[0] and not old[1]:
                raise ValueError(f"a caller named {name!r} already exists (revoke it first to give it a new key)")
            pipe.multi()
            if old[0]:
                pipe.delete(f"{PREFIX}key:{old[0]}")
            pipe.delete(caller_key)
            pipe.hset(caller_key, mapping=record)
            pipe.set(f"{PREFIX}key:{digest}", name)
            pipe.sadd(f"{PREFIX}callers", name)

        self._call("add", lambda: self._redis.transaction(write, caller_key))
        return caller, key

    def revoke(self, name: str) -> bool:
        caller_key = f"{PREFIX}caller:{name}"
        revoked = []

        def write(pipe: redis.client.Pipeline) -> None:
            digest, already = pipe.hmget(caller_key, "key_hash", "revoked")
            if not digest or already:
                return
            pipe.multi()
            pipe.delete(f"{PREFIX}key:{digest}")
            pipe.hset(caller_key, "revoked", datetime.now(timezone.utc).isoformat(timespec="seconds"))
            revoked.append(name)

        self._call("revoke", lambda: self._redis.transaction(write, caller_key))
        return bool(revoked)

    def callers(self) -> list[tuple[Caller, dict[str, Any]]]:
        names = sorted(self._call("list", lambda: self._redis.smembers(f"{PREFIX}callers")))
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(f"{PREFIX}caller:{name}")
        records = self._call("list", pipe.execute)
        return [(_caller_from(r), {"revoked": bool(r.get("revoked")), "spent_tokens": int(r.get("spent") or 0)})
                for r in records if r]

    def usage(self, name: str | None = None) -> list[UsageRow]:
        index = f"{PREFIX}usage-index"
        keys = sorted(self._call("usage", lambda: self._redis.smembers(index)))
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        rows = []
        for key, r in zip(keys, self._call("usage", pipe.execute)):
            if not r:  # expired: drop it from the index
                self._call("usage", lambda: self._redis.srem(index, key))
                continue
            if name is None or r["caller"] == name:
                rows.append(UsageRow(r["caller"], r["model"], r["day"], int(r["requests"]), int(r["input_tokens"]),
                                     int(r["output_tokens"]), int(r["reasoning_tokens"]),
                                     float(r["cost"]) if "cost" in r else None,
                                     int(r.get("cached_input_tokens") or 0), int(r.get("cache_creation_input_tokens") or 0)))
        return sorted(rows, key=lambda row: (row.caller, row.day, row.model))
