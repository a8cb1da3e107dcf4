"""A request refused before its body was read (a 401 without a token, a 413) while the client trickles
the rest of the body: the client reads its answer at once, and neither its thread nor, past
REQUEST_READ_TIMEOUT_S, its connection is held (web/request_body.py's drain, web/server/worker.py's linger).
Under gunicorn as s.yaml starts it, over raw sockets."""

from __future__ import annotations

import socket
import threading
import time
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from scripts.fc_process import start_like_fc, stop
from tests.conftest import function_env

pytestmark = pytest.mark.server

READ_TIMEOUT_S = 2
TOKEN = "refused-body-test-token"
NATIVE = "/api/v1/services/aigc/text-generation/generation"


@pytest.fixture(scope="module")
def instance(emulator) -> Iterator[str]:
    process, url = start_like_fc(function_env(
        emulator, INVOKE_TOKEN=TOKEN, REQUEST_READ_TIMEOUT_S=str(READ_TIMEOUT_S), MAX_BODY_BYTES="100000"))
    yield url
    stop(process)


def trickling(url: str, path: str, length: int, authorized: bool = False) -> socket.socket:
    """A connection that sent a head announcing `length` bytes, and a few of them."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    auth = f"Authorization: Bearer {TOKEN}\r\n" if authorized else ""
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: fc\r\nContent-Type: application/json\r\n{auth}"
                 f"Content-Length: {length}\r\n\r\n{{".encode())
    return sock


@pytest.mark.parametrize("path, length, authorized, status", [
    ("/invoke", 100_000, False, 401),
    (NATIVE, 100_000, False, 401),
    ("/invoke", 200_000, True, 413),  # over MAX_BODY_BYTES
])
def test_a_refused_client_that_trickles_its_body_is_answered_then_closed_within_the_read_deadline(
        instance, path, length, authorized, status):
    sock = trickling(instance, path, length, authorized)
    sock.settimeout(0.5)
    started = time.monotonic()
    received, answered_at, ended_at, reset_at = b"", None, None, None
    try:
        while time.monotonic() - started < 20:
            try:
                sock.send(b"x")  # one byte every half second, as the red team did
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:  # the server closed the connection: our byte got a reset
                reset_at = time.monotonic()
                break
            if data:
                received += data
                if answered_at is None and b"\r\n\r\n" in received:
                    answered_at = time.monotonic()
            elif ended_at is None:
                ended_at = time.monotonic()  # the server has finished writing (FIN)
    finally:
        sock.close()
    assert received.startswith(f"HTTP/1.1 {status}".encode()), received[:200]
    assert answered_at is not None and answered_at - started < 1.5
    assert ended_at is not None and ended_at - started < READ_TIMEOUT_S + 1.5, "the answer was not followed by the end"
    assert reset_at is not None and reset_at - started < READ_TIMEOUT_S + 3, "the connection was still held"


def test_many_trickling_refused_clients_leave_the_instance_serving(instance):
    """More such clients than the worker has threads (256), kept up for several seconds: /health and
    normal calls are still answered at once."""
    stop_attack = threading.Event()
    opened = [0]

    def attack() -> None:
        socks: list[socket.socket] = []
        while not stop_attack.is_set():
            while len(socks) < 270:
                try:
                    socks.append(trickling(instance, "/invoke", 100_000))
                    opened[0] += 1
                except OSError:
                    break
            alive = []
            for sock in socks:
                try:
                    sock.send(b"x")
                    alive.append(sock)
                except OSError:
                    sock.close()
            socks = alive
            stop_attack.wait(0.5)
        for sock in socks:
            sock.close()

    attacker = threading.Thread(target=attack, daemon=True)
    attacker.start()
    try:
        time.sleep(1.0)
        slowest = 0.0
        until = time.monotonic() + 6
        while time.monotonic() < until:
            for call in (
                lambda: requests.get(f"{instance}/health", timeout=15),
                lambda: requests.post(f"{instance}/invoke", data=b"hi", timeout=15,
                                      headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"}),
            ):
                began = time.monotonic()
                assert call().status_code == 200
                slowest = max(slowest, time.monotonic() - began)
            time.sleep(0.3)
        assert slowest < 3, f"a call waited {slowest:.1f} s behind the trickling clients"
        assert opened[0] >= 270
    finally:
        stop_attack.set()
        attacker.join(timeout=10)
