"""Bodies under gunicorn, over real sockets: MAX_BODY_BYTES however the body is framed, a refusal the
client can read, and MAX_IN_FLIGHT checked before a body is read."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid
from typing import Iterator

import pytest

from scripts.fc_process import start_like_fc, stop
from tests.conftest import function_env

MIB = 1024 * 1024


def connect(url: str, timeout: float = 15) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def pieces(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        piece = b"x" * min(size, total - sent)
        sent += len(piece)
        yield piece


def post(url: str, body, path: str = "/invoke", **headers: str) -> tuple[int, dict, dict]:
    connection = connect(url)
    try:
        chunked = not isinstance(body, bytes)
        connection.request("POST", path, body=body, encode_chunked=chunked, headers={"Content-Type": "application/octet-stream", **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def calls_for(emulator, marker: str) -> list[dict]:
    return [r for r in emulator.history if marker in json.dumps(r["body"])]


@pytest.mark.parametrize("size", [MIB + 1, 3 * MIB, 12 * MIB])
def test_a_chunked_body_over_the_limit_is_413_and_never_sent(server, emulator, size):
    emulator.clear()
    status, _, body = post(server, pieces(size))
    assert status == 413
    assert body["code"] == "PayloadTooLarge" and str(MIB) in body["message"]
    assert emulator.history == []


def test_a_chunked_body_at_the_limit_is_sent_whole(server, emulator):
    marker = uuid.uuid4().hex
    text = (marker + " ") * (MIB // (len(marker) + 1))
    status, _, _ = post(server, iter([text.encode()[i:i + 50_000] for i in range(0, len(text), 50_000)]))
    assert status == 200
    (call,) = calls_for(emulator, marker)
    assert call["body"]["input"]["messages"][-1]["content"] == text


@pytest.mark.parametrize("size", [2 * MIB, 4 * MIB, 12 * MIB])
def test_a_413_for_a_content_length_body_can_be_read(server, emulator, size):
    # http.client sends the whole body before reading the answer: the server must not reset the
    # connection under it (up to DRAIN_MAX_BYTES, 16 MiB).
    emulator.clear()
    status, headers, body = post(server, b"x" * size)
    assert status == 413 and body["code"] == "PayloadTooLarge"
    assert emulator.history == []


@pytest.mark.parametrize("path", ["/invoke", "/v1/chat/completions"])
def test_a_malformed_chunk_size_is_a_400(server, path):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".encode()
        )
        reply = b""
        while chunk := connection.recv(4096):
            reply += chunk
    head, _, body = reply.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400"), reply
    assert "application/json" in head
    assert "could not be read" in body and "chunk" in body


@pytest.fixture(scope="module")
def one_slot(emulator) -> Iterator[str]:
    """The function under gunicorn with MAX_IN_FLIGHT=1."""
    process, url = start_like_fc(function_env(emulator, MAX_IN_FLIGHT="1"))
    yield url
    stop(process)


def holding_the_slot(url: str, emulator, delay_s: float) -> threading.Thread:
    """A call that takes the one slot for `delay_s` seconds, started and already at the emulator."""
    marker = uuid.uuid4().hex
    slow = threading.Thread(target=post, args=(url, f"{marker} [[emulate delay={delay_s}]]".encode()))
    slow.start()
    deadline = time.monotonic() + 10
    while not calls_for(emulator, marker):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return slow


def test_over_max_in_flight_is_refused_before_the_body_is_read(one_slot, emulator):
    slow = holding_the_slot(one_slot, emulator, 2)

    # A chunked body that announces a lot and is never finished: the 429 comes anyway, at once.
    host, port = one_slot.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n10000\r\n" + b"x" * 1000
        )
        started = time.monotonic()
        reply = b""
        while b"}}" not in reply:
            chunk = connection.recv(4096)
            assert chunk, reply
            reply += chunk
        waited = time.monotonic() - started
    head, _, body = reply.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 429")
    assert "Retry-After: 1" in head
    assert json.loads(body)["error"]["code"] == "TooManyInFlight"
    assert waited < 1.5  # before the slow call (2 s) ended: nothing waited for the body
    slow.join()

    # The slot is free again once the slow call is over.
    status, _, _ = post(one_slot, b"now there is room")
    assert status == 200


def test_a_refused_content_length_body_still_gets_its_429(one_slot, emulator):
    slow = holding_the_slot(one_slot, emulator, 1.5)
    status, headers, body = post(one_slot, b"y" * (MIB // 2))
    slow.join()
    assert status == 429 and body["code"] == "TooManyInFlight" and headers["Retry-After"] == "1"
