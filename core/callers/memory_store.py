"""Callers for one instance, without Redis: callers come from CALLERS, counters live in this process.

Every limit is then per instance (FC may run several, each with its own counters) and counters and
usage start again at zero when the instance does. For limits that hold across instances, set REDIS_URL.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Mapping

from core.callers.model import OWNER, Caller, Tokens, check_name, key_hash, new_key
from core.callers.pricing import Price, estimated_cost
from core.callers.store import (RESERVATION_TTL_S, RESERVED_RETRY_AFTER_S, WINDOW_S, CallerStore, UsageRow, bounded_model,
                                check_model, price_table, refusal)


class _Window:
    """Counts in one-second buckets over the last WINDOW_S seconds (the same scheme as the Redis store)."""

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}

    def total(self, now: int) -> int:
        for second in [s for s in self.buckets if s <= now - WINDOW_S]:
            del self.buckets[second]
        return sum(self.buckets.values())

    def retry_after(self, now: int, limit: int) -> int:
        """Seconds until the window holds less than `limit` again."""
        total = self.total(now)
        for second in sorted(self.buckets):
            total -= self.buckets[second]
            if total < limit:
                return second + WINDOW_S - now
        return 1

    def add(self, now: int, amount: int) -> None:
        self.buckets[now] = self.buckets.get(now, 0) + amount


class MemoryCallerStore(CallerStore):
    kind = "memory"

    def __init__(self, callers: Mapping[str, Caller] | None = None, *, model_limits: Mapping[str, Mapping[str, int]] | None = None,
                 prices: Mapping[str, Price] | None = None, clock: Any = time.time,
                 reservation_ttl_s: int = RESERVATION_TTL_S) -> None:
        self._reservation_ttl_s = reservation_ttl_s
        # id -> (caller held for, or None; model held for, or None; tokens; expires at)
        self._reservations: dict[str, tuple[str | None, str | None, int, float]] = {}
        self._by_hash: dict[str, Caller] = dict(callers or {})
        self._revoked: set[str] = set()
        self._model_limits = dict(model_limits or {})
        self._prices = price_table(prices)
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: defaultdict[tuple[str, str, str], _Window] = defaultdict(_Window)
        self._spent: defaultdict[str, int] = defaultdict(int)
        self._usage: defaultdict[tuple[str, str, str], dict[str, Any]] = defaultdict(
            lambda: {"requests": 0, "input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0, "cost": None,
                     "cached_input_tokens": 0, "cache_creation_input_tokens": 0})

    def find(self, key: str) -> Caller | None:
        return self._by_hash.get(key_hash(key))

    def find_by_name(self, name: str) -> Caller | None:
        return next((c for c in self._by_hash.values() if c.name == name), None)

    def _reserved(self, now: float) -> tuple[defaultdict[str, int], defaultdict[str, int]]:
        """Tokens reserved now, per caller and per model (lapsed reservations dropped)."""
        by_caller: defaultdict[str, int] = defaultdict(int)
        by_model: defaultdict[str, int] = defaultdict(int)
        for rid, (held_caller, held_model, tokens, expires) in list(self._reservations.items()):
            if expires <= now:
                del self._reservations[rid]
                continue
            if held_caller is not None:
                by_caller[held_caller] += tokens
            if held_model is not None:
                by_model[held_model] += tokens
        return by_caller, by_model

    def _check(self, caller: Caller, model: str, model_limits: Mapping[str, int], now: float) -> bool:
        """Refuse as ADMIT does (redis_scripts.py); whether the caller's reservations hold tokens."""
        if caller.name in self._revoked:
            raise refusal(caller, model, "revoked", 0, 0)
        by_caller, by_model = self._reserved(now)
        held = caller.name != OWNER.name and (caller.tpm is not None or caller.budget_tokens is not None)
        caller_reserved = by_caller[caller.name] if held else 0
        if caller.budget_tokens is not None and self._spent[caller.name] >= caller.budget_tokens:
            raise refusal(caller, model, "budget", 0, caller.budget_tokens)
        if caller.budget_tokens is not None and self._spent[caller.name] + caller_reserved >= caller.budget_tokens:
            raise refusal(caller, model, "budget_reserved", RESERVED_RETRY_AFTER_S, caller.budget_tokens)
        second = int(now)
        checks = [("rpm", ("caller", caller.name, "rpm"), caller.rpm, 0),
                  ("tpm", ("caller", caller.name, "tpm"), caller.tpm, caller_reserved),
                  ("model_rpm", ("model", model, "rpm"), model_limits.get("rpm"), 0),
                  ("model_tpm", ("model", model, "tpm"), model_limits.get("tpm"), by_model[model])]
        for limit, window, value, reserved in checks:
            if value is not None and self._windows[window].total(second) + reserved >= value:
                raise refusal(caller, model, limit, self._windows[window].retry_after(second, value - reserved), value)
        return held

    def admit(self, caller: Caller, model: str, reserve_tokens: int = 0, *, model_limits: bool = True) -> str | None:
        check_model(caller, model)
        now = self._clock()
        limits = self._model_limits.get(model, {}) if model_limits else {}
        with self._lock:
            held = self._check(caller, model, limits, now)
            self._windows[("caller", caller.name, "rpm")].add(int(now), 1)
            if model_limits:
                self._windows[("model", model, "rpm")].add(int(now), 1)
            if reserve_tokens <= 0:
                return None
            rid = f"{reserve_tokens}:{uuid.uuid4().hex}"
            self._reservations[rid] = (caller.name if held else None, model if "tpm" in limits else None,
                                       reserve_tokens, now + self._reservation_ttl_s)
            return rid

    def precheck(self, caller: Caller) -> None:
        with self._lock:
            self._check(caller, "", {}, self._clock())

    def settle(self, caller: Caller, model: str, usage: Mapping[str, Any] | None, reservation: str | None = None) -> None:
        tokens = Tokens.from_usage(usage)
        model = bounded_model(model)
        cost = estimated_cost(model, tokens, self._prices)
        now = self._clock()
        day = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d")
        with self._lock:
            if reservation is not None:
                self._reservations.pop(reservation, None)
            self._windows[("caller", caller.name, "tpm")].add(int(now), tokens.total)
            self._windows[("model", model, "tpm")].add(int(now), tokens.total)
            self._spent[caller.name] += tokens.total
            row = self._usage[(caller.name, model, day)]
            row["requests"] += 1
            row["input_tokens"] += tokens.input
            row["output_tokens"] += tokens.output
            row["reasoning_tokens"] += tokens.reasoning
            row["cached_input_tokens"] += tokens.cached
            row["cache_creation_input_tokens"] += tokens.cache_creation
            if cost is not None:
                row["cost"] = (row["cost"] or 0.0) + cost

    def healthy(self) -> bool:
        return True

    def add(self, name: str, *, rpm: int | None = None, tpm: int | None = None, budget_tokens: int | None = None,
            models: tuple[str, ...] | None = None, max_in_flight: int | None = None) -> tuple[Caller, str]:
        check_name(name)
        with self._lock:
            if any(c.name == name for c in self._by_hash.values()) and name not in self._revoked:
                raise ValueError(f"a caller named {name!r} already exists")
            self._by_hash = {h: c for h, c in self._by_hash.items() if c.name != name}
            self._revoked.discard(name)
            key = new_key()
            created = datetime.now(timezone.utc).isoformat(timespec="seconds")
            caller = Caller(name, rpm, tpm, budget_tokens, models, created, max_in_flight)
            self._by_hash[key_hash(key)] = caller
            return caller, key

    def revoke(self, name: str) -> bool:
        with self._lock:
            if name in self._revoked or not any(c.name == name for c in self._by_hash.values()):
                return False
            self._revoked.add(name)
            self._by_hash = {h: c for h, c in self._by_hash.items() if c.name != name}
            return True

    def callers(self) -> list[tuple[Caller, dict[str, Any]]]:
        with self._lock:
            return sorted(((c, {"revoked": False, "spent_tokens": self._spent[c.name]}) for c in self._by_hash.values()),
                          key=lambda pair: pair[0].name)

    def usage(self, name: str | None = None) -> list[UsageRow]:
        with self._lock:
            return [UsageRow(caller, model, day, **row) for (caller, model, day), row in sorted(self._usage.items())
                    if name is None or caller == name]
