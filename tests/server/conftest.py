"""What the server tier's tests share beyond tests/conftest.py: a real redis-server per test module
(Debian's, on a free loopback port), for the callers' store and the stored responses."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.redis_fixture import RedisServer, start_redis


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    running = start_redis(tmp_path_factory.mktemp("redis"))
    yield running
    running.kill()
