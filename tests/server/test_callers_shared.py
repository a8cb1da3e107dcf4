"""Callers across two FC-like instances (gunicorn, started as s.yaml starts it) sharing one real
redis-server: exact counts under concurrent bursts, budgets, usage equal to the emulator's, live
revocation, keys never stored in clear, streams settled at their real end, and Redis lost mid-run.
The module's last test kills Redis."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from scripts.fc_process import start_like_fc, stop
from tests.conftest import ROOT, function_env
from tests.redis_fixture import RedisServer

OWNER = "owner-token-shared-callers"


@pytest.fixture(scope="module")
def instances(emulator, redis_server: RedisServer) -> Iterator[list[str]]:
    env = function_env(emulator, REDIS_URL=redis_server.url, INVOKE_TOKEN=OWNER, UPSTREAM_RETRIES="0")
    started = [start_like_fc(env) for _ in range(2)]
    yield [url for _, url in started]
    for process, _ in started:
        stop(process)


def callers(redis_server: RedisServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), *args], capture_output=True, text=True,
                          env={"REDIS_URL": redis_server.url, "PATH": "/usr/bin:/bin"}, timeout=30, check=False)


def add(redis_server: RedisServer, name: str, *options: str) -> str:
    done = callers(redis_server, "add", name, *options)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def usage(redis_server: RedisServer, name: str) -> dict:
    rows = json.loads(callers(redis_server, "usage", "--json", name).stdout)
    return {k: sum(r[k] for r in rows) for k in ("requests", "input_tokens", "output_tokens")}


def invoke(url: str, token: str, prompt: str = "one two three", **body) -> requests.Response:
    return requests.post(f"{url}/invoke", json={"prompt": prompt, **body},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_burst_across_two_instances_lets_exactly_rpm_through_and_usage_is_the_emulators(instances, redis_server):
    key = add(redis_server, "burst", "--rpm", "10")
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda n: invoke(instances[n % 2], key, f"call {n} a b"), range(30)))
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 10 and statuses.count(429) == 20
    passed = [answer for answer in answers if answer.status_code == 200]
    assert {urlsplit(a.url).port for a in passed} == {urlsplit(u).port for u in instances}  # both served
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["code"] == "rate_limit_exceeded" and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert usage(redis_server, "burst") == {
        "requests": 10,
        "input_tokens": sum(a.json()["usage"]["input_tokens"] for a in passed),
        "output_tokens": sum(a.json()["usage"]["output_tokens"] for a in passed),
    }
    assert [invoke(url, OWNER).status_code for url in instances * 2] == [200] * 4  # the owner: unlimited


def test_a_budget_holds_across_instances(instances, redis_server):
    cost = invoke(instances[0], OWNER, "w " * 8).json()["usage"]["total_tokens"]
    key = add(redis_server, "budget", "--budget-tokens", str(cost + 1))
    statuses = [invoke(instances[n % 2], key, "w " * 8).status_code for n in range(4)]
    # The second call is admitted (budget remained) and overruns the budget by at most its own tokens.
    assert statuses == [200, 200, 429, 429]
    refused = requests.post(f"{instances[1]}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                            json={"model": "qwen-flash", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "insufficient_quota"


def test_keys_are_never_stored_in_clear(instances, redis_server):
    key = add(redis_server, "secretive")
    assert invoke(instances[0], key).status_code == 200
    client = redis_server.client()
    stored = []
    for name in client.scan_iter("*"):
        kind = client.type(name)
        stored.append(f"{name} {({'string': client.get, 'hash': client.hgetall, 'set': client.smembers}[kind])(name)}")
    text = "\n".join(stored)
    assert "secretive" in text and key not in text and key[len("qfc_"):] not in text


def test_a_revoke_stops_the_key_on_both_instances_within_a_second(instances, redis_server):
    key = add(redis_server, "revoked")
    assert [invoke(url, key).status_code for url in instances] == [200, 200]
    assert callers(redis_server, "revoke", "revoked").returncode == 0
    revoked_at = time.monotonic()
    answers = [invoke(url, key) for url in instances]
    assert time.monotonic() - revoked_at < 1.0
    assert [a.status_code for a in answers] == [401, 401]
    assert "revoked" in answers[0].json()["message"]


def read_events(sock: socket.socket, count: int) -> bytes:
    seen = b""
    while seen.count(b"\n\n") < count + 1:  # the headers' blank line, then `count` events
        seen += sock.recv(4096)
    return seen


def test_streams_are_settled_at_their_real_end_abandoned_ones_included(instances, redis_server):
    key = add(redis_server, "streamer")
    finished = invoke(instances[0], key, "a b c d e f", stream=True)
    last = [line for line in finished.text.splitlines() if line.startswith("data:")][-1]
    full = json.loads(last[len("data:"):])["usage"]
    assert usage(redis_server, "streamer") == {"requests": 1, "input_tokens": full["input_tokens"],
                                               "output_tokens": full["output_tokens"]}

    body = json.dumps({"prompt": " ".join(["word"] * 40) + " [[emulate chunk_delay=0.1]]", "stream": True}).encode()
    target = urlsplit(instances[1])
    with socket.create_connection((target.hostname, target.port), timeout=10) as sock:
        sock.sendall(b"POST /invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        read_events(sock, 2)
        assert usage(redis_server, "streamer")["requests"] == 1  # still streaming: not settled yet
    deadline = time.monotonic() + 5
    while usage(redis_server, "streamer")["requests"] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    settled = usage(redis_server, "streamer")
    assert settled["requests"] == 2
    assert full["output_tokens"] < settled["output_tokens"] < full["output_tokens"] + 40  # the tokens known so far


def test_redis_lost_caller_keys_fail_closed_fast_and_the_owner_still_works(instances, redis_server):
    key = add(redis_server, "survivor")
    assert invoke(instances[0], key).status_code == 200
    redis_server.kill()
    for url in instances:
        started = time.monotonic()
        refused = invoke(url, key)
        assert time.monotonic() - started < 1.0
        assert refused.status_code == 503 and refused.headers["Content-Type"].startswith("application/json")
        assert refused.json()["code"] == "CallerStoreUnavailable"
        assert invoke(url, OWNER).status_code == 200
        health = requests.get(f"{url}/health", timeout=5).json()
        assert health["status"] == "degraded" and health["caller_store"] == {"kind": "redis", "status": "down"}
