"""Callers against a real redis-server, what only the Redis store does: keys only as hashes, exact limits
across processes, Redis lost mid-run (fail closed, or open when asked) and the CLI. What both stores do
is in test_caller_store_contract.py."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from core.callers import CallerLimitExceeded, CallerStoreUnavailable
from core.callers.redis_store import RedisCallerStore
from tests.conftest import ROOT
from tests.redis_fixture import RedisServer, start_redis

PLUS = {"input_tokens": 1000, "output_tokens": 500, "output_tokens_details": {"reasoning_tokens": 200}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    running = start_redis(tmp_path_factory.mktemp("redis"))
    yield running
    running.kill()


@pytest.fixture
def url(server: RedisServer) -> str:
    server.client().flushall()
    return server.url


def all_stored_text(server: RedisServer) -> str:
    client, parts = server.client(), []
    for name in client.scan_iter("*"):
        kind = client.type(name)
        value = {"string": client.get, "hash": client.hgetall, "set": client.smembers}[kind](name)
        parts.append(f"{name} {value}")
    return "\n".join(parts)


def test_a_key_is_never_stored_in_clear(url: str, server: RedisServer) -> None:
    store = RedisCallerStore(url)
    caller, key = store.add("app", rpm=5, tpm=1000, budget_tokens=10_000, models=("qwen-plus",))
    assert key.startswith("qfc_") and len(key) > 40
    assert store.find(key) == caller
    store.admit(caller, "qwen-plus")
    store.settle(caller, "qwen-plus", PLUS)
    stored = all_stored_text(server)
    assert "app" in stored and caller.name in stored  # the scan did see the caller's records
    assert key not in stored and key[len("qfc_"):] not in stored
    assert store.find(key[:-1] + ("A" if key[-1] != "A" else "B")) is None


BURST = """
import os, sys, threading
from core.callers.redis_store import RedisCallerStore
from core.callers.errors import CallerLimitExceeded
store = RedisCallerStore(os.environ["URL"], timeout_s=5)
caller = store.find(os.environ["KEY"])
admitted = []
def fire():
    for _ in range(5):
        try:
            store.admit(caller, "qwen-plus"); admitted.append(1)
        except CallerLimitExceeded:
            pass
threads = [threading.Thread(target=fire) for _ in range(4)]
print("ready", flush=True)
sys.stdin.readline()  # the go: both processes fire together
[t.start() for t in threads]; [t.join() for t in threads]
print(len(admitted))
"""


def test_rpm_is_exact_under_a_burst_from_two_processes(url: str) -> None:
    store = RedisCallerStore(url)
    _, key = store.add("burst", rpm=10)
    env = {**os.environ, "URL": url, "KEY": key, "PYTHONPATH": str(ROOT)}
    workers = [subprocess.Popen([sys.executable, "-c", BURST], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True) for _ in range(2)]
    assert [w.stdout.readline() for w in workers] == ["ready\n"] * 2  # both connected, threads made
    counts = [int(w.communicate("go\n", timeout=60)[0]) for w in workers]
    assert sum(counts) == 10, counts  # 40 attempts, exactly 10 through
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(store.find(key), "qwen-plus")
    assert refused.value.limit == "rpm" and refused.value.status == 429
    assert refused.value.code == "rate_limit_exceeded"
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert "10 requests per minute" in refused.value.message


def test_redis_killed_mid_run_fails_closed_fast(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = start_redis(tmp_path)
    store, open_store = RedisCallerStore(server.url), RedisCallerStore(server.url, fail_open=True)
    caller, key = store.add("app", rpm=1)
    assert open_store.find(key) == caller and store.healthy()
    server.kill()
    for attempt in (lambda: store.find(key), lambda: store.admit(caller, "qwen-plus")):
        started = time.monotonic()
        with pytest.raises(CallerStoreUnavailable) as refused:
            attempt()
        assert time.monotonic() - started < 1.0
        assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "1"}
    assert store.healthy() is False
    store.settle(caller, "qwen-plus", PLUS)  # never raises: the call is served already
    assert "usage NOT recorded for caller 'app'" in caplog.text and key not in caplog.text
    # Fail-open: a caller this instance knows passes, unlimited (rpm=1, twice), loudly; unknown keys don't.
    with caplog.at_level(logging.WARNING, logger="qwenfc"):
        assert open_store.find(key) == caller
        open_store.admit(caller, "qwen-plus")
        open_store.admit(caller, "qwen-plus")
    assert "CALLER LIMITS NOT ENFORCED" in caplog.text
    with pytest.raises(CallerStoreUnavailable):
        open_store.find("qfc_" + "x" * 43)


def test_a_hung_redis_fails_closed_within_a_second() -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        store = RedisCallerStore(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        with pytest.raises(CallerStoreUnavailable):
            store.find("qfc_" + "x" * 43)
        assert time.monotonic() - started < 1.0
        assert store.healthy() is False


def run_cli(url: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if url:
        env["REDIS_URL"] = url
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_cli_end_to_end(url: str, server: RedisServer) -> None:
    added = run_cli(url, "add", "batch", "--rpm", "2", "--tpm", "5000", "--budget-tokens", "90000", "--models", "qwen-plus,qwen-max")
    assert added.returncode == 0, added.stderr
    key = added.stdout.split()[-1]
    assert key.startswith("qfc_") and key not in all_stored_text(server)
    store = RedisCallerStore(url)
    caller = store.find(key)
    assert (caller.rpm, caller.tpm, caller.budget_tokens, caller.models) == (2, 5000, 90000, ("qwen-plus", "qwen-max"))
    assert run_cli(url, "add", "batch").returncode == 1  # the name is taken
    store.admit(caller, "qwen-plus")
    store.settle(caller, "qwen-plus", PLUS)
    listed = run_cli(url, "list").stdout
    assert "batch" in listed and "active" in listed and "1500" in listed and key not in listed
    usage = json.loads(run_cli(url, "usage", "--json").stdout)
    assert usage == [{"caller": "batch", "model": "qwen-plus", "day": time.strftime("%Y-%m-%d", time.gmtime()),
                      "requests": 1, "input_tokens": 1000, "output_tokens": 500, "reasoning_tokens": 200, "cost": 0.01,
                      "cached_input_tokens": 0, "cache_creation_input_tokens": 0}]
    assert "qwen-plus" in run_cli(url, "usage", "batch").stdout
    assert json.loads(run_cli(url, "usage", "--json", "nobody").stdout) == []
    assert run_cli(url, "revoke", "batch").returncode == 0
    assert store.find(key) is None and "revoked" in run_cli(url, "list").stdout
    assert run_cli(url, "revoke", "batch").returncode == 1
    missing = run_cli(None, "list")
    assert missing.returncode == 2 and "REDIS_URL" in missing.stderr
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    unreachable = run_cli(f"redis://127.0.0.1:{port}/0", "list")
    assert unreachable.returncode == 2 and "cannot reach Redis" in unreachable.stderr
    assert run_cli(url, "add", "bad:name").returncode == 2


def test_the_cli_runs_from_a_python_without_redis_as_the_readme_shows() -> None:
    """`scripts/callers ...` started by a python that lacks redis-py (the system's, say) hands itself
    to the project's .venv. The venv's python is a link to that same interpreter, so the check is by
    prefix: comparing interpreters found them equal and never switched."""
    base_python = getattr(sys, "_base_executable", sys.executable)
    lacks_redis = subprocess.run([base_python, "-c", "import redis"], capture_output=True).returncode != 0
    if not lacks_redis or not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("needs a base python without redis-py beside the project's .venv")
    shown = subprocess.run([base_python, str(ROOT / "scripts" / "callers"), "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "usage" in shown.stdout.lower(), shown.stderr
