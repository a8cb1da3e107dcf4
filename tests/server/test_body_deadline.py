"""A body sent in part holds its MAX_IN_FLIGHT slot and its thread for REQUEST_READ_TIMEOUT_S at most
(web/request_body.py), under gunicorn as s.yaml starts it: then it is a 408 JSON and the connection
closes. And `Expect: 100-continue` for a body over MAX_BODY_BYTES is a 413 without `100 Continue`."""

from __future__ import annotations

import json
import socket
import time
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from scripts.fc_process import start_like_fc, stop
from tests.conftest import function_env
from tests.waiting import read_answers, wait_until

pytestmark = pytest.mark.server

READ_TIMEOUT_S = 2
MAX_IN_FLIGHT = 128
HALF_SENT = 130  # more than MAX_IN_FLIGHT


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def read_until_closed(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def instance(emulator) -> Iterator[str]:
    process, url = start_like_fc(function_env(
        emulator, REQUEST_READ_TIMEOUT_S=str(READ_TIMEOUT_S), MAX_IN_FLIGHT=str(MAX_IN_FLIGHT), MAX_BODY_BYTES="100000"))
    yield url
    stop(process)


def normal_call(url: str) -> int:
    return requests.post(f"{url}/invoke", data=b"hi", headers={"Content-Type": "application/octet-stream"},
                         timeout=30).status_code


def test_half_sent_chunked_bodies_give_their_slots_back_within_the_read_timeout(instance):
    half_sent = (b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Type: application/octet-stream\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    socks = [connect(instance) for _ in range(HALF_SENT)]
    sent_at = time.monotonic()
    for sock in socks:
        sock.sendall(half_sent)
    try:
        # They hold every slot: the deadline is what frees them.
        wait_until(lambda: normal_call(instance) == 429, READ_TIMEOUT_S / 2, "the half-sent bodies to hold every slot")
        served_after = None
        while time.monotonic() - sent_at < 10:
            if normal_call(instance) == 200:
                served_after = time.monotonic() - sent_at
                break
            time.sleep(0.2)
        assert served_after is not None and served_after < READ_TIMEOUT_S + 1.5, served_after
        statuses = []
        for sock in socks:
            status, headers, body = read_until_closed(sock)
            statuses.append(status)
            assert headers["content-type"] == "application/json"
            if status == 408:
                error = json.loads(body)
                assert error["code"] == "RequestTimeout" and "REQUEST_READ_TIMEOUT_S" in error["message"]
        # The slot is taken before the body is read: those past MAX_IN_FLIGHT were shed at once.
        assert sorted(statuses) == [408] * MAX_IN_FLIGHT + [429] * (HALF_SENT - MAX_IN_FLIGHT)
    finally:
        for sock in socks:
            sock.close()


def test_a_trickled_body_over_64_kib_is_cut_at_the_deadline(instance):
    """A byte every half second on a Content-Length body the thread reads: one read cannot outlast the deadline."""
    with connect(instance) as sock:
        sock.sendall(b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: 90000\r\n\r\n" + b"x" * 70000)
        started = time.monotonic()
        sock.settimeout(0.5)
        answer = b""
        while time.monotonic() - started < 15 and not answer:
            try:
                sock.send(b"x")
                answer = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < READ_TIMEOUT_S + 1.5


def test_expect_100_continue_for_a_body_over_max_body_bytes_is_413_without_continue(instance):
    with connect(instance) as sock:
        sock.sendall(b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: 200000\r\nExpect: 100-continue\r\n\r\n")
        status, headers, body = read_until_closed(sock)
    assert status == 413, status  # the first status line, not "100 Continue"
    assert json.loads(body)["code"] == "PayloadTooLarge"


def test_clients_that_never_close_do_not_stall_the_event_loop(instance):
    """gthread closed a finished `Connection: close` connection in its event loop, waiting up to 2 s
    for the client's FIN: ten silent clients stalled every other connection for 20 s."""
    silent = [connect(instance) for _ in range(10)]
    try:
        for sock in silent:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: fc\r\nConnection: close\r\n\r\n")
        for sock in silent:  # each answered: the server now waits for a FIN that does not come
            assert b"200 OK" in read_answers(sock, 1)
        started = time.monotonic()
        assert requests.get(f"{instance}/health", timeout=30).status_code == 200
        assert time.monotonic() - started < 1.5
    finally:
        for sock in silent:
            sock.close()
