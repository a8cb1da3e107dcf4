"""SIGTERM's edge cases, under gunicorn as s.yaml starts it: once the instance is stopping, every call
still open ends with an error at the stop deadline however silent DashScope is (an `InstanceStopping`
event once a stream has started, a 503 JSON answer before), and a request that arrives after SIGTERM
gets an immediate 503 `InstanceStopping` or is refused at the socket, never left hanging."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from scripts.fc_process import start_like_fc, stop
from tests.conftest import function_env

pytestmark = pytest.mark.server

# gunicorn's graceful_timeout for these tests: calls still open 1.5 s (a quarter) before it runs out
# are ended by the function (gunicorn.conf.py), here 4.5 s after SIGTERM.
GRACE_S = 6
STOP_AFTER_S = 4.5


def log_lines(output: str) -> dict[str, dict]:
    lines = (json.loads(text) for text in output.splitlines() if text.startswith('{"'))
    return {line["request_id"]: line for line in lines if line.get("message") == "request"}


def wait_until(condition, seconds: float = 15) -> None:
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, "timed out waiting"
        time.sleep(0.02)


def reached(emulator, marker: str) -> bool:
    return any(marker in json.dumps(seen["body"]) for seen in emulator.history)


def test_calls_waiting_on_a_silent_upstream_end_with_an_error_at_the_stop_deadline(emulator):
    process, url = start_like_fc(function_env(emulator, GUNICORN_CMD_ARGS=f"--graceful-timeout {GRACE_S}"))
    marker = uuid.uuid4().hex
    long_words = " ".join(["word"] * 10)
    calls = {
        # name: (path, body, whether the answer starts before DashScope falls silent)
        "silent-stream": ("/invoke?stream=true", {"messages": [{"role": "user", "content": f"{marker} a [[emulate delay=30]]"}]}, False),
        "silent-call": ("/invoke", {"messages": [{"role": "user", "content": f"{marker} b [[emulate delay=30]]"}]}, False),
        "stalled-stream": ("/invoke?stream=true", {"messages": [{"role": "user", "content": f"{marker} c {long_words} [[emulate chunk_delay=30]]"}]}, True),
        "stalled-openai": ("/v1/chat/completions", {"model": "qwen-plus", "stream": True, "messages": [{"role": "user", "content": f"{marker} d {long_words} [[emulate chunk_delay=30]]"}]}, True),
    }
    started = {name: threading.Event() for name in calls}
    results: dict[str, tuple[int, str, str]] = {}

    def call(name: str, path: str, body: dict) -> None:
        with requests.post(f"{url}{path}", json=body, headers={"x-fc-request-id": name}, stream=True, timeout=60) as response:
            text = ""
            for piece in response.iter_content(chunk_size=None):
                text += piece.decode()
                started[name].set()
            results[name] = (response.status_code, response.headers.get("Content-Type", ""), text)

    callers = [threading.Thread(target=call, args=(name, path, body)) for name, (path, body, _) in calls.items()]
    try:
        for caller in callers:
            caller.start()
        # Every call has reached DashScope, and every stream that starts has sent its first event.
        wait_until(lambda: sum(reached(emulator, f"{marker} {letter}") for letter in "abcd") == 4)
        for name, (_, _, starts) in calls.items():
            if starts:
                assert started[name].wait(15)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        for caller in callers:
            caller.join(timeout=GRACE_S + 5)
        ended_within = time.monotonic() - signalled
    finally:
        output = stop(process)

    assert ended_within < GRACE_S, "the calls ran until gunicorn's kill"
    assert set(results) == set(calls), "a call got no answer at all"
    for name in ("silent-stream", "silent-call"):
        status, kind, text = results[name]
        assert (status, kind) == (503, "application/json"), (name, status, text)
        assert json.loads(text)["code"] == "InstanceStopping"
    status, _, text = results["stalled-stream"]
    assert status == 200 and "event:error" in text and ":HTTP_STATUS/503" in text and '"code":"InstanceStopping"' in text
    status, _, text = results["stalled-openai"]
    assert status == 200 and '"code":"InstanceStopping"' in text and "[DONE]" not in text
    lines = log_lines(output)
    for name in calls:
        assert lines[name]["status"] in (200, 503) and lines[name].get("error_code") == "InstanceStopping", lines[name]
        assert "unfinished" not in lines[name]  # each ended by itself, before the kill


def raw_get(sock: socket.socket, path: str = "/health") -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: fc\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < content_length(received):
        piece = sock.recv(65536)
        if not piece:
            break
        received += piece
    return received


def content_length(received: bytes) -> int:
    for line in received.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_requests_arriving_after_sigterm_are_refused_at_once(emulator):
    process, url = start_like_fc(function_env(emulator, GUNICORN_CMD_ARGS=f"--graceful-timeout {GRACE_S}"))
    parts = urlsplit(url)
    address = (parts.hostname, parts.port)
    marker = uuid.uuid4().hex
    # A call in flight keeps the worker running through the grace period, as FC's calls would.
    in_flight = threading.Thread(target=lambda: requests.post(
        f"{url}/invoke", data=f"{marker} [[emulate delay=30]]".encode(), timeout=60))
    kept_alive = socket.create_connection(address, timeout=10)
    try:
        assert raw_get(kept_alive).startswith(b"HTTP/1.1 200")  # kept alive (HTTP/1.1)
        in_flight.start()
        wait_until(lambda: reached(emulator, marker))
        process.send_signal(signal.SIGTERM)

        # New connections: refused at the socket (or a 503 InstanceStopping), and never left waiting.
        outcomes = []
        ends = time.monotonic() + 3
        while time.monotonic() < ends and "refused" not in outcomes:
            began = time.monotonic()
            try:
                answer = requests.get(f"{url}/health", timeout=2)
                outcomes.append(answer.status_code if answer.status_code != 503 else answer.json()["code"])
            except requests.ConnectionError as error:
                # A connection the kernel queued just as gunicorn closed its listener is reset, not
                # refused: turned away at the socket all the same, at once.
                turned_away = any(word in str(error).lower() for word in ("refused", "reset by peer"))
                outcomes.append("refused" if turned_away else f"broken: {error}")
            assert time.monotonic() - began < 1.5, outcomes
            time.sleep(0.05)
        assert outcomes[-1] == "refused", outcomes
        assert all(outcome in (200, "InstanceStopping", "refused") for outcome in outcomes), outcomes

        # A request on a connection kept alive from before: an immediate 503 InstanceStopping.
        began = time.monotonic()
        answer = raw_get(kept_alive, "/health")
        assert time.monotonic() - began < 1.5
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503"), answer[:300]
        refusal = json.loads(body)
        assert refusal["code"] == "InstanceStopping"
    finally:
        kept_alive.close()
        output = stop(process)
        in_flight.join(timeout=30)
    # Its log line, like any request's, with the request id the caller got.
    (line,) = [json.loads(text) for text in output.splitlines() if refusal["request_id"] in text]
    assert line["status"] == 503


def test_a_call_whose_body_is_still_arriving_at_the_stop_deadline_gets_a_503(emulator):
    """A body over 64 KiB is read by a thread (web/request_body.py): half of it sent when SIGTERM
    comes, the caller gets 503 InstanceStopping at the stop deadline, not a closed connection at the kill."""
    process, url = start_like_fc(function_env(emulator, GUNICORN_CMD_ARGS=f"--graceful-timeout {GRACE_S}",
                                              REQUEST_READ_TIMEOUT_S="30"))
    parts = urlsplit(url)
    half_sent = socket.create_connection((parts.hostname, parts.port), timeout=GRACE_S + 5)
    try:
        half_sent.sendall(b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Type: text/plain\r\nx-fc-request-id: half-sent\r\n"
                          b"Content-Length: 200000\r\n\r\n" + b"a" * 100_000)
        time.sleep(0.5)  # the thread is reading the body
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            piece = half_sent.recv(65536)
            if not piece:
                break
            received += piece
        answered_within = time.monotonic() - signalled
    finally:
        half_sent.close()
        output = stop(process)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503"), received[:300]  # 4900023: no answer, the connection closed at the kill
    assert json.loads(body)["code"] == "InstanceStopping"
    assert answered_within < GRACE_S
    assert log_lines(output)["half-sent"]["status"] == 503
