"""What the worker's event loop needs to know from a request head before a thread serves it
(web/server/worker.py): where the head ends, how much body to read with it, and whether to refuse it at once."""

from __future__ import annotations

# Bodies of known length up to this are read by the event loop too (a chat call is a few KB);
# 1000 connections (worker_connections) then hold at most ~128 MB of unfinished requests.
# (Each read asks for no more than that: see on_request_bytes.)
MAX_BUFFERED_BODY = 64 * 1024


def head_is_complete(data: bytearray, scan_from: int) -> int:
    """Where the head ends (the index after its blank line), or -1 while it has not ended."""
    end = data.find(b"\r\n\r\n", scan_from)
    if end >= 0:
        return end + 4
    # A bare-LF head never ends in CRLF CRLF; the parser refuses it, so hand it over now.
    end = data.find(b"\n\n", scan_from)
    return end + 2 if end >= 0 else -1


def expects_too_large_body(head: bytes, max_bytes: int) -> bool:
    """Whether the head asks `Expect: 100-continue` for a Content-Length over `max_bytes`: refused
    before gunicorn sends `100 Continue`, so the client never sends a body that would be refused."""
    expect, length = False, None
    for line in head.split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"expect":
            expect = value.lower() == b"100-continue"
        elif name == b"content-length" and value.isdigit():
            length = int(value)
    return expect and length is not None and length > max_bytes


def buffered_body_length(head: bytes) -> int:
    """How many body bytes the event loop reads after this head: the Content-Length when it is one
    plain number up to MAX_BUFFERED_BODY, else 0 (the thread reads it, or the parser refuses it)."""
    length = None
    for line in head.split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name in (b"transfer-encoding", b"expect"):
            return 0
        if name == b"content-length":
            if length is not None or not value.strip().isdigit():
                return 0
            length = int(value.strip())
    return length if length is not None and length <= MAX_BUFFERED_BODY else 0
