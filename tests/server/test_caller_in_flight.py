"""A caller's share of an instance (issue 20, item 5), under gunicorn as s.yaml starts it: a caller
sending slow bodies holds at most its share of MAX_IN_FLIGHT, the rest of its calls are refused at
once from their head, and one at its rpm is refused before its body is read; the owner keeps being
served throughout."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from core.callers import new_key
from scripts.fc_process import start_like_fc, stop
from tests.conftest import function_env

OWNER = "owner-token-in-flight"
GREEDY, LIMITED = new_key(), new_key()


@pytest.fixture(scope="module")
def instance(emulator) -> Iterator[str]:
    env = function_env(emulator, INVOKE_TOKEN=OWNER, MAX_IN_FLIGHT="8", REQUEST_READ_TIMEOUT_S="10",
                       CALLERS=f"greedy:{GREEDY};limited:{LIMITED}:rpm=1")
    process, url = start_like_fc(env)
    yield url
    stop(process)


def slow_body(url: str, key: str) -> socket.socket:
    """A call whose head says 100,000 bytes of body and whose body then comes one byte at a time."""
    target = urlsplit(url)
    sock = socket.create_connection((target.hostname, target.port), timeout=10)
    sock.sendall(b"POST /invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Authorization: Bearer {key}\r\nContent-Length: 100000\r\n\r\n{{".encode())
    return sock


def answer_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server answered within `seconds`, head and body (b"" when it is still waiting for the body)."""
    deadline, seen = time.monotonic() + seconds, b""
    while not (b"\r\n\r\n" in seen and seen.rstrip().endswith(b"}")):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionError):
            break
        if not chunk:
            break
        seen += chunk
    return seen


def owner_call(url: str) -> int:
    return requests.post(f"{url}/invoke", headers={"Authorization": f"Bearer {OWNER}"}, timeout=30,
                         json={"prompt": "hi", "model": "qwen-plus"}).status_code


def test_slow_bodies_from_one_caller_hold_at_most_its_share_and_the_owner_is_served(instance):
    sockets = [slow_body(instance, GREEDY) for _ in range(20)]
    try:
        with ThreadPoolExecutor(len(sockets)) as pool:  # read all at once: 3 s, well within the 10 s read deadline
            answers = list(pool.map(lambda sock: answer_within(sock, 3), sockets))
        refused = [a for a in answers if a.startswith(b"HTTP/1.1 429")]
        # MAX_IN_FLIGHT 8: the default share is half, 4 bodies being read; every other call is refused at once.
        assert len(refused) == 16 and all(b"calls in progress" in a for a in refused), [a[:60] for a in answers]
        assert sum(1 for a in answers if a == b"") == 4
        started = time.monotonic()
        assert [owner_call(instance) for _ in range(4)] == [200] * 4  # e727c51: 429 TooManyInFlight
        assert time.monotonic() - started < 5
    finally:
        for sock in sockets:
            sock.close()


def test_a_caller_at_its_rpm_is_refused_from_its_head(instance):
    assert requests.post(f"{instance}/invoke", headers={"Authorization": f"Bearer {LIMITED}"}, timeout=30,
                         json={"prompt": "hi", "model": "qwen-plus"}).status_code == 200
    sockets = [slow_body(instance, LIMITED) for _ in range(3)]
    try:
        answers = [answer_within(sock, 2) for sock in sockets]
        assert all(a.startswith(b"HTTP/1.1 429") and b"1 requests per minute" in a for a in answers), answers
    finally:
        for sock in sockets:
            sock.close()
    assert owner_call(instance) == 200


TIMED_OUT = new_key()


@pytest.fixture(scope="module")
def quick_timeout_instance(emulator) -> Iterator[str]:
    env = function_env(emulator, INVOKE_TOKEN=OWNER, REQUEST_READ_TIMEOUT_S="2",
                       CALLERS=f"timedout:{TIMED_OUT}:rpm=1,models=qwen-plus")
    process, url = start_like_fc(env)
    yield url
    stop(process)


def test_a_body_that_never_came_counts_against_the_callers_rpm(quick_timeout_instance):
    """A caller at rpm=1 whose slow bodies time out (408) held a slot each time and was never counted:
    it could hold its share of the instance for ever. Its 408 counts: the next body is refused from its head."""
    first = slow_body(quick_timeout_instance, TIMED_OUT)
    try:
        assert answer_within(first, 6).startswith(b"HTTP/1.1 408")
    finally:
        first.close()
    again = slow_body(quick_timeout_instance, TIMED_OUT)
    try:
        answer = answer_within(again, 1)  # 4900023: b"" (its body read again, for 2 s), then a 408
    finally:
        again.close()
    assert answer.startswith(b"HTTP/1.1 429") and b"requests per minute" in answer, answer[:300]
