"""Reading what a caller sent: the body within MAX_BODY_BYTES however it is framed.

- `read_body` reads at most MAX_BODY_BYTES + 1 bytes, whether the body comes with a Content-Length
  or chunked (`Transfer-Encoding: chunked`): one byte more than the limit is a 413, never a cut body.
  A body that cannot be read (a malformed chunk size, say) is a 400. The whole body must arrive
  within REQUEST_READ_TIMEOUT_S (`timeout_s`): the worker's event loop reads heads and small bodies
  of known length (web/server/worker.py), but a chunked body, one over 64 KiB or one behind
  `Expect: 100-continue` is read here, by the thread, holding a MAX_IN_FLIGHT slot. Past the deadline
  it is a 408 and the connection is closed, so a body sent in part holds neither for longer.
- `DrainUnreadBody` lets a client read the error it got before its body was read (a 401, a 429 from
  MAX_IN_FLIGHT, a 413): closing a socket with unread data makes the kernel send a reset, and the
  client loses the answer. After the response has gone out, what has already arrived of the body is
  dropped, and nothing waits for the rest: when more is still to come, gunicorn closes the
  connection, and the worker's event loop (web/server/worker.py, `linger`) reads and drops what the client
  still sends, holding no thread, for at most min(5 s, REQUEST_READ_TIMEOUT_S) and 16 MiB. A client
  that trickles the rest of a refused body holds neither a thread nor, past that, its connection.
"""

from __future__ import annotations

import socket
import time
from typing import Any, Callable, Iterable, Iterator

from flask import request
from werkzeug.wsgi import get_input_stream

from core.errors import (InstanceStopping, InvalidRequest, PayloadTooLarge, RequestTimeout, TransferCodingNotImplemented,
                         UnsupportedMediaType)
from web.lifecycle import stop_deadline

MIB = 1024 * 1024
READ_SIZE = 64 * 1024
# Set in the WSGI environ once the body has been read to its end.
BODY_READ_KEY = "qwenfc.body_read"


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the body is larger than {max_bytes} bytes (MAX_BODY_BYTES)", headers={"Connection": "close"})


class _Stopping(Exception):
    """The instance's stop deadline came while the body was still arriving."""


class _DeadlineSocket:
    """gunicorn's socket for one body read: every recv waits at most until the deadline, so a client
    that trickles a byte now and then cannot stretch one read past it; nor past the instance's stop
    deadline (web/lifecycle.py), which may begin while a recv waits: it waits in slices of 1 s."""

    __slots__ = ("_sock", "_deadline")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline

    def recv(self, size: int) -> bytes:
        while True:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the body's deadline passed")
            stop = stop_deadline()
            if stop is not None and time.perf_counter() >= stop:
                raise _Stopping()
            self._sock.settimeout(min(remaining, 1.0))
            try:
                return self._sock.recv(size)
            except socket.timeout:
                continue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _socket_unreader(environ: dict[str, Any]) -> Any:
    """gunicorn's reader of this request's socket (its `sock` is what the body is read from), or None
    when the server is not gunicorn (a test client) or gunicorn changed its insides."""
    reader = getattr(environ.get("wsgi.input"), "reader", None)
    unreader = getattr(reader, "unreader", None) or getattr(getattr(reader, "req", None), "unreader", None)
    return unreader if isinstance(getattr(unreader, "sock", None), socket.socket) else None


def _check_codings(environ: dict[str, Any]) -> None:
    """Only bodies sent as they are: a compressed body would be read as text (or JSON) and refused
    for the wrong reason, or worse, sent on as gibberish."""
    codings = [c.strip() for c in environ.get("HTTP_TRANSFER_ENCODING", "").lower().split(",") if c.strip()]
    if any(coding != "chunked" for coding in codings):
        raise TransferCodingNotImplemented(
            f"Transfer-Encoding {environ['HTTP_TRANSFER_ENCODING']!r} is not supported: send the body as it is, "
            "with a Content-Length or Transfer-Encoding: chunked alone")
    content_coding = environ.get("HTTP_CONTENT_ENCODING", "").strip()
    if content_coding and content_coding.lower() != "identity":
        raise UnsupportedMediaType(
            f"Content-Encoding {content_coding!r} is not supported: send the body uncompressed, without Content-Encoding")


def read_body(max_bytes: int, timeout_s: float | None = None) -> bytes:
    """The request's whole body, or PayloadTooLarge (413) when it is longer than `max_bytes`, or
    RequestTimeout (408) when it has not all arrived within `timeout_s` seconds."""
    environ = request.environ
    _check_codings(environ)
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    stream = get_input_stream(environ, max_content_length=None)
    unreader = _socket_unreader(environ) if timeout_s is not None else None
    if unreader is not None:
        sock: socket.socket = unreader.sock
        prior = sock.gettimeout()
        unreader.sock = _DeadlineSocket(sock, time.monotonic() + timeout_s)
    pieces, received = [], 0
    try:
        while received <= max_bytes:
            piece = stream.read(min(READ_SIZE, max_bytes + 1 - received))
            if not piece:
                break
            pieces.append(piece)
            received += len(piece)
    except _Stopping:
        environ[BODY_READ_KEY] = True  # not drained: the connection closes after this answer
        raise InstanceStopping(
            f"this function instance is stopping (FC is shutting it down) before the request body had all "
            f"arrived ({received} bytes); send the call again", headers={"Connection": "close"}) from None
    except TimeoutError:
        # gunicorn marks the body failed: the connection is closed after this answer, undrained.
        environ[BODY_READ_KEY] = True
        raise RequestTimeout(
            f"the request body was not all sent within {timeout_s:g} s (REQUEST_READ_TIMEOUT_S); "
            f"{received} bytes arrived"
        ) from None
    except Exception as error:  # noqa: BLE001 - the server's reader failed: the body is malformed or cut
        raise InvalidRequest(
            f"the request body could not be read ({type(error).__name__}): check its framing "
            "(Content-Length, or chunk sizes with Transfer-Encoding: chunked)"
        ) from None
    finally:
        if unreader is not None:
            unreader.sock = sock
            try:
                sock.settimeout(prior)
            except OSError:
                pass
    if received > max_bytes:
        raise _too_large(max_bytes)
    environ[BODY_READ_KEY] = True
    return b"".join(pieces)


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or (length.isdigit() and int(length) > 0)


def _drain(environ: dict[str, Any]) -> None:
    """Drop what has already arrived of the unread body, never waiting for more. When more is still
    to come the first read that would wait fails at once: gunicorn marks the body failed and closes
    the connection after this answer, and the worker lingers on it in its event loop (web/server/worker.py).
    Waiting here would hold this thread for as long as the client cares to trickle its body."""
    unreader = _socket_unreader(environ)
    if unreader is None:
        return  # not gunicorn (a test client): its body is all there, or it is not ours to wait for
    sock = unreader.sock
    unreader.sock = _DeadlineSocket(sock, time.monotonic())  # the deadline has passed: no recv waits
    stream = get_input_stream(environ, max_content_length=None)
    try:
        while stream.read(READ_SIZE):
            pass
    except Exception:  # noqa: BLE001 - more was to come (or the body was malformed): the server closes
        return
    finally:
        unreader.sock = sock


class _ThenDrain:
    """The app's response body; when the server closes it (the answer has gone out), drain."""

    __slots__ = ("_body", "_environ")

    def __init__(self, body: Iterable[bytes], environ: dict[str, Any]) -> None:
        self._body, self._environ = body, environ

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            _drain(self._environ)


class DrainUnreadBody:
    """WSGI middleware: when the app answered without reading the body, the body is drained
    (bounded) after the answer has been sent, so that the client can read it."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = self.app(environ, start_response)
        if environ.get(BODY_READ_KEY) or not _has_body(environ):
            return body
        return _ThenDrain(body, environ)
