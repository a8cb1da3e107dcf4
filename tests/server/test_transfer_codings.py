"""A Transfer-Encoding other than chunked (gzip, chunked) under gunicorn: a 501 JSON naming it, never
the compressed bytes read as the caller's text."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.server


def test_gzip_then_chunked_is_a_501_naming_the_transfer_encoding(server, emulator):
    parts = urlsplit(server)
    emulator.clear()
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Type: application/octet-stream\r\n"
                     b"Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501"), head
    error = json.loads(body)
    assert error["code"] == "NotImplemented" and "gzip, chunked" in error["message"]
    assert emulator.history == []
