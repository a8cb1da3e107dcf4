"""Reading what a caller sent: the body within MAX_BODY_BYTES however it is framed, and its JSON.

- `read_body` reads at most MAX_BODY_BYTES + 1 bytes, whether the body comes with a Content-Length
  or chunked (`Transfer-Encoding: chunked`): one byte more than the limit is a 413, never a cut body.
  A body that cannot be read (a malformed chunk size, say) is a 400.
- `load_json` parses JSON the way every door needs it: any failure (bad syntax, nesting deeper than
  MAX_JSON_DEPTH, an integer too long for Python, a lone surrogate that cannot be sent as UTF-8) is a
  400 that says what is wrong, never a 500 and never a failure inside the SDK later.
- `DrainUnreadBody` lets a client read the error it got before its body was read (a 401, a 429 from
  MAX_IN_FLIGHT, a 413): closing a socket with unread data makes the kernel send a reset, and the
  client loses the answer. After the response has gone out, up to DRAIN_MAX_BYTES of the unread body
  are read and thrown away, for at most DRAIN_S seconds. Past either bound the server closes the
  connection (gunicorn does, when a body read fails or is left unfinished).
"""

from __future__ import annotations

import json
import socket
import sys
import time
from typing import Any, Callable, Iterable, Iterator

from flask import request
from werkzeug.wsgi import get_input_stream

from core.errors import InvalidRequest, PayloadTooLarge

MIB = 1024 * 1024
# A body refused before it was read is drained up to this much, for at most this long, so the
# client (still sending) gets to read the refusal. Past either bound the connection is closed.
DRAIN_MAX_BYTES = 16 * MIB
DRAIN_S = 5.0
# Deeper JSON than this is refused: nothing a chat request carries nests this deep, and the SDK
# copies and serialises the request recursively (it fails from about 500 levels).
MAX_JSON_DEPTH = 64
READ_SIZE = 64 * 1024
# Set in the WSGI environ once the body has been read to its end.
BODY_READ_KEY = "qwenfc.body_read"


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the body is larger than {max_bytes} bytes (MAX_BODY_BYTES)", headers={"Connection": "close"})


def read_body(max_bytes: int) -> bytes:
    """The request's whole body, or PayloadTooLarge (413) when it is longer than `max_bytes`."""
    environ = request.environ
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    stream = get_input_stream(environ, max_content_length=None)
    pieces, received = [], 0
    try:
        while received <= max_bytes:
            piece = stream.read(min(READ_SIZE, max_bytes + 1 - received))
            if not piece:
                break
            pieces.append(piece)
            received += len(piece)
    except Exception as error:  # noqa: BLE001 - the server's reader failed: the body is malformed or cut
        raise InvalidRequest(
            f"the request body could not be read ({type(error).__name__}): check its framing "
            "(Content-Length, or chunk sizes with Transfer-Encoding: chunked)"
        ) from None
    if received > max_bytes:
        raise _too_large(max_bytes)
    environ[BODY_READ_KEY] = True
    return b"".join(pieces)


def _check_nesting_and_text(value: Any) -> None:
    """Depth at most MAX_JSON_DEPTH, and every string sendable as UTF-8 (JSON's `\\ud800` is not)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise InvalidRequest(
                        "the JSON holds a lone surrogate escape (such as \\ud800), which is not text and "
                        "cannot be sent on as UTF-8; escape characters outside the BMP as a surrogate pair"
                    ) from None
            continue
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise InvalidRequest(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children if isinstance(child, (str, dict, list)))


def load_json(text: str | bytes, what: str) -> Any:
    """Parse `text` as JSON; any failure is an InvalidRequest that starts with `what`."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidRequest(
            f"{what} is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except RecursionError:
        raise InvalidRequest(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except UnicodeDecodeError:
        raise InvalidRequest(f"{what} is not valid UTF-8 text") from None
    except ValueError:  # the one other failure: an integer longer than Python converts
        raise InvalidRequest(
            f"{what} holds an integer longer than {sys.get_int_max_str_digits()} digits, more than any "
            "parameter takes"
        ) from None
    _check_nesting_and_text(payload)
    return payload


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or (length.isdigit() and int(length) > 0)


def _drain(environ: dict[str, Any]) -> None:
    """Read and discard what is left of the body, within DRAIN_MAX_BYTES and DRAIN_S."""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > DRAIN_MAX_BYTES:
        return  # more than we would read: close now rather than after reading part of it
    stream = get_input_stream(environ, max_content_length=None)
    # gunicorn reads the body from this socket, blocking: a deadline on it bounds a silent client.
    sock = environ.get("gunicorn.socket")
    prior = sock.gettimeout() if isinstance(sock, socket.socket) else None
    deadline, drained = time.monotonic() + DRAIN_S, 0
    try:
        while drained < DRAIN_MAX_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if isinstance(sock, socket.socket):
                sock.settimeout(remaining)
            piece = stream.read(READ_SIZE)
            if not piece:
                return
            drained += len(piece)
    except Exception:  # noqa: BLE001 - a timeout, a reset or a malformed body: stop; the server closes
        return
    finally:
        if isinstance(sock, socket.socket):
            try:
                sock.settimeout(prior)
            except OSError:
                pass


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
