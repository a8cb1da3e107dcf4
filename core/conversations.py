"""Stored answers and their conversations, per caller: what a stateful door (the Responses API's
`store` and `previous_response_id`) keeps between calls.

A record is a JSON object (the door decides what is in it), kept under its owner's name and its id:
a caller sees only its own (the owner, calling with INVOKE_TOKEN or unauthenticated, is one more
name). Where it lives follows the callers' store: Redis with REDIS_URL (shared by every instance,
opened as core/redis_connection.py opens it; each record a key with its TTL), in this process
otherwise (per instance, gone when the instance stops; the oldest records go first past
MEMORY_MAX_BYTES).

Bounds: every record expires after `ttl_s` (RESPONSES_TTL_S); a record larger than `max_bytes`
(MAX_BODY_BYTES, what one request may send) is not kept (`put` says so), so a conversation never
grows past what a caller could have sent in one body.
"""

from __future__ import annotations

import abc
import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from core.errors import ApiError

log = logging.getLogger("qwenfc")
PREFIX = "{qfc}:conv:"  # the callers' hash tag: one cluster slot with them
MEMORY_MAX_BYTES = 64 * 1024 * 1024


class ConversationStoreUnavailable(ApiError):
    """503: REDIS_URL is set but Redis cannot be reached, so a stored conversation cannot be read or kept."""

    status = 503
    code = "ConversationStoreUnavailable"
    default_message = "the conversation store (REDIS_URL) cannot be reached; retry shortly, or send store: false"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": "1"})


class ConversationStore(abc.ABC):
    kind: str

    def __init__(self, ttl_s: int, max_bytes: int) -> None:
        self.ttl_s, self.max_bytes = ttl_s, max_bytes

    def put(self, owner: str, record_id: str, record: dict[str, Any]) -> bool:
        """Keep `record` for `ttl_s`; False (nothing kept) when it is larger than `max_bytes`."""
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) > self.max_bytes:
            return False
        self._put(owner, record_id, text)
        return True

    def get(self, owner: str, record_id: str) -> dict[str, Any] | None:
        """The record `owner` kept under `record_id`; None when there is none (or it expired, or it is
        another caller's)."""
        text = self._get(owner, record_id)
        return json.loads(text) if text is not None else None

    @abc.abstractmethod
    def delete(self, owner: str, record_id: str) -> bool:
        """Forget a record; False when `owner` had none under that id."""

    @abc.abstractmethod
    def _put(self, owner: str, record_id: str, text: str) -> None: ...

    @abc.abstractmethod
    def _get(self, owner: str, record_id: str) -> str | None: ...


class MemoryConversationStore(ConversationStore):
    kind = "memory"

    def __init__(self, ttl_s: int, max_bytes: int, *, total_bytes: int = MEMORY_MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ttl_s, max_bytes)
        self._total_bytes, self._clock = total_bytes, clock
        self._records: OrderedDict[tuple[str, str], tuple[float, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def _put(self, owner: str, record_id: str, text: str) -> None:
        with self._lock:
            self._drop((owner, record_id))
            self._records[(owner, record_id)] = (self._clock() + self.ttl_s, text)
            self._size += len(text)
            while self._size > self._total_bytes and self._records:  # the oldest go first
                self._drop(next(iter(self._records)))

    def _get(self, owner: str, record_id: str) -> str | None:
        with self._lock:
            found = self._records.get((owner, record_id))
            if found is None:
                return None
            if found[0] <= self._clock():
                self._drop((owner, record_id))
                return None
            return found[1]

    def delete(self, owner: str, record_id: str) -> bool:
        with self._lock:
            return self._get_unlocked_and_drop((owner, record_id))

    def _get_unlocked_and_drop(self, key: tuple[str, str]) -> bool:
        found = self._records.get(key)
        self._drop(key)
        return found is not None and found[0] > self._clock()

    def _drop(self, key: tuple[str, str]) -> None:
        found = self._records.pop(key, None)
        if found is not None:
            self._size -= len(found[1])


class RedisConversationStore(ConversationStore):
    kind = "redis"

    def __init__(self, url: str, ttl_s: int, max_bytes: int) -> None:
        from core.redis_connection import connect

        super().__init__(ttl_s, max_bytes)
        self._redis = connect(url)

    @staticmethod
    def _key(owner: str, record_id: str) -> str:
        return f"{PREFIX}{owner}:{record_id}"

    def _call(self, operation: str, action: Callable[[], Any]) -> Any:
        import redis

        try:
            return action()
        except redis.RedisError as error:
            log.error("conversation store (Redis) failed during %s: %s: %s", operation, type(error).__name__, error)
            raise ConversationStoreUnavailable() from None

    def _put(self, owner: str, record_id: str, text: str) -> None:
        self._call("put", lambda: self._redis.set(self._key(owner, record_id), text, ex=self.ttl_s))

    def _get(self, owner: str, record_id: str) -> str | None:
        return self._call("get", lambda: self._redis.get(self._key(owner, record_id)))

    def delete(self, owner: str, record_id: str) -> bool:
        return bool(self._call("delete", lambda: self._redis.delete(self._key(owner, record_id))))


def build_conversation_store(redis_url: str | None, ttl_s: int, max_bytes: int) -> ConversationStore:
    """Redis when REDIS_URL is set (shared by every instance), else this process's memory."""
    if redis_url:
        return RedisConversationStore(redis_url, ttl_s, max_bytes)
    return MemoryConversationStore(ttl_s, max_bytes)
