"""One way to open Redis (or Alibaba Cloud Tair) for the function's shared state: the callers' store
(core/callers/redis_store.py) and the conversations the Responses door keeps (core/conversations.py).

Fail fast: short socket timeouts and redis-py's retries off, so that an unreachable store costs a
call at most `timeout_s`, and the caller gets a 503 rather than a hung thread.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

DEFAULT_TIMEOUT_S = 0.3


def connect(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> redis.Redis:
    """A client for `url` (`redis://[:password@]host:port/db`, `rediss://` for TLS), strings decoded."""
    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0), health_check_interval=0)
