"""The server layer (web/server/worker.py) under gunicorn, as s.yaml starts it, over raw sockets on loopback:
slow clients hold no thread, and gunicorn's own errors are the function's JSON errors."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from scripts.fc_process import start_like_fc, stop
from tests.conftest import function_env
from tests.waiting import accepted, read_answers, wait_until

pytestmark = pytest.mark.server

SLOW_CLIENTS = 300  # more than gunicorn's 256 threads
READ_TIMEOUT_S = 8


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read a response the server ends by closing the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def raw_exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with connect(url) as sock:
        sock.sendall(request)
        return read_response(sock)


@pytest.fixture(scope="module")
def slow_read_server(emulator) -> Iterator[tuple[subprocess.Popen, str]]:
    process, url = start_like_fc(function_env(emulator, REQUEST_READ_TIMEOUT_S=str(READ_TIMEOUT_S)))
    yield process, url
    stop(process)


@pytest.fixture
def slow_read_instance(slow_read_server) -> str:
    return slow_read_server[1]


def test_slow_and_silent_clients_do_not_starve_normal_calls(slow_read_server):
    process, url = slow_read_server
    half_a_head = b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Type: application/octet-stream\r\nContent-Le"
    half_a_body = b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Length: 1000\r\n\r\nhello"
    slow = [connect(url) for _ in range(SLOW_CLIENTS)]
    opened = time.monotonic()
    for i, sock in enumerate(slow):
        sock.sendall(half_a_body if i % 3 == 0 else half_a_head)
    trickling, stop_trickle = slow[: SLOW_CLIENTS // 2], threading.Event()

    def trickle() -> None:  # a byte a second on half of them, bounded by the read timeout
        for _ in range(READ_TIMEOUT_S * 2):
            for sock in trickling:
                try:
                    sock.send(b"n")
                except OSError:
                    pass
            if stop_trickle.wait(1):
                return

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        wait_until(lambda: accepted(process.pid, slow), READ_TIMEOUT_S / 2,
                   "the server to take in every slow client")

        def normal_call(i: int) -> int:
            if i % 2:
                return requests.get(f"{url}/health", timeout=5).status_code
            return requests.post(f"{url}/invoke", data=b"hi", headers={"Content-Type": "application/octet-stream"},
                                 timeout=5).status_code

        with ThreadPoolExecutor(10) as pool:
            statuses = list(pool.map(normal_call, range(10)))
        assert statuses == [200] * 10
        assert time.monotonic() - opened < READ_TIMEOUT_S  # served while every slow client was still open

        # Past the read timeout, each slow client is told so (408, JSON) and its connection closed.
        for sock in (slow[0], slow[-1]):
            status, headers, body = read_response(sock)
            assert status == 408
            assert json.loads(body)["code"] == "RequestTimeout"
            assert headers["x-request-id"] == json.loads(body)["request_id"]
        assert time.monotonic() - opened < READ_TIMEOUT_S + 4
    finally:
        stop_trickle.set()
        trickler.join()
        for sock in slow:
            sock.close()


def test_a_connection_that_sends_nothing_is_closed_without_a_response(slow_read_instance):
    with connect(slow_read_instance) as sock:
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - started < READ_TIMEOUT_S + 3


def test_a_stopping_instance_does_not_wait_for_a_half_sent_request(emulator):
    process, url = start_like_fc(function_env(emulator))
    try:
        with connect(url) as half_sent:
            half_sent.sendall(b"GET /health HTTP/1.1\r\nHost: fc\r\n")
            wait_until(lambda: accepted(process.pid, [half_sent]), 10, "the server to take the connection in")
            started = time.monotonic()
            process.terminate()  # SIGTERM, as FC stops an instance
            answer = read_answers(half_sent, 1)  # as a client does: reads the answer, then hangs up
        process.wait(timeout=15)
        # Not graceful_timeout (30 s), nor the read timeout (10 s): the 2 s a request being sent gets.
        assert time.monotonic() - started < 5
        head, _, body = answer.partition(b"\r\n\r\n")
        status = int(head.split()[1])
    finally:
        output = stop(process)
    assert status == 503
    error = json.loads(body)
    assert error["code"] == "InstanceStopping"
    # Its log line, like any request's: JSON, with the request id the caller got.
    (line,) = [json.loads(text) for text in output.splitlines() if error["request_id"] in text]
    assert (line["request_id"], line["status"]) == (error["request_id"], 503)


def test_a_request_sent_in_pieces_within_the_timeout_is_served(slow_read_instance):
    body = b'{"prompt": "hi"}'
    request = (b"POST /invoke HTTP/1.1\r\nHost: fc\r\nConnection: close\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    with connect(slow_read_instance) as sock:
        for i in range(0, len(request), 20):
            sock.sendall(request[i:i + 20])
            time.sleep(0.05)
        status, _, response = read_response(sock)
    assert status == 200, response
    assert json.loads(response)["output"]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_bodies_the_event_loop_leaves_to_the_thread_are_still_read_whole(server, framing):
    text = "word " * 40_000  # 200 KB: over the 64 KiB the event loop reads itself
    body = iter([text.encode()]) if framing == "chunked" else text.encode()
    response = requests.post(f"{server}/invoke", data=body, headers={"Content-Type": "application/octet-stream"},
                             timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["input_tokens"] >= 40_000  # every word reached the model


def test_expect_100_continue_is_answered_before_the_body_is_sent(server):
    body = b"hello"
    with connect(server) as sock:
        sock.sendall(b"POST /invoke HTTP/1.1\r\nHost: fc\r\nConnection: close\r\nExpect: 100-continue\r\n"
                     b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        status, _, response = read_response(sock)
    assert status == 200, response


def test_keep_alive_and_pipelined_requests_still_work(server):
    request = b"GET /health HTTP/1.1\r\nHost: fc\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(request)
        data = read_answers(sock, 1)  # answered, and the connection kept alive
        sock.sendall(request + request[:10])  # a whole request and the start of the next
        data += read_answers(sock, 1)  # the whole one answered while the next is still half-sent
        sock.sendall(request[10:-2] + b"Connection: close\r\n\r\n")
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 3


BIG = b"a" * 9000

SERVER_ERRORS = {
    "bad request line": (b"GARBAGE\r\n\r\n", 400, "BadRequest"),
    "bad HTTP version": (b"GET /health HTTP/7.1\r\nHost: fc\r\n\r\n", 400, "BadRequest"),
    "URI too long": (b"GET /" + BIG + b" HTTP/1.1\r\nHost: fc\r\n\r\n", 414, "RequestURITooLong"),
    "header field too large": (b"GET /health HTTP/1.1\r\nHost: fc\r\nX-Big: " + BIG + b"\r\n\r\n", 431,
                               "RequestHeaderFieldsTooLarge"),
    "too many header fields": (b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120))
                               + b"\r\n", 431, "RequestHeaderFieldsTooLarge"),
    "head over 64 KiB": (b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, BIG[:8000]) for i in range(9))
                         + b"\r\n", 431, "RequestHeaderFieldsTooLarge"),
    "unknown transfer coding": (b"POST /invoke HTTP/1.1\r\nHost: fc\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
                                "BadRequest"),
    "unknown expectation": (b"POST /invoke HTTP/1.1\r\nHost: fc\r\nExpect: tea\r\nContent-Length: 2\r\n\r\nhi", 417,
                            "ExpectationFailed"),
}


@pytest.mark.parametrize("request_bytes, status, code", SERVER_ERRORS.values(), ids=SERVER_ERRORS.keys())
def test_the_servers_own_errors_are_json(server, request_bytes, status, code):
    got_status, headers, body = raw_exchange(server, request_bytes)
    assert got_status == status, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert set(error) == {"status_code", "request_id", "code", "message"}
    assert (error["status_code"], error["code"]) == (status, code)
    assert error["message"]
    assert headers["x-request-id"] == error["request_id"] and len(error["request_id"]) == 32
    assert b"<" not in body
