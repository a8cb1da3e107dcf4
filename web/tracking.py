"""Request ids and logs: one JSON line per request, and the request id on every log line.

The request id is FC's ``x-fc-request-id`` when FC sent one (so our log lines join FC's own), else a
new one; it goes back to the caller as ``X-Request-Id``. Nothing here logs headers, bodies or keys:
the line carries what the views `note()`, which is metadata only. Each line is formatted and written
by the thread that logs it (web/logs.py), a request's after its answer has gone out.

The request's context (its id and its line's fields) lasts as long as the response: it is set while
the app runs and again while the server sends the body, so a stream's code can `note()` and log
with the request id until its very last event.

A request id from FC is used only when it looks like one (REQUEST_ID_PATTERN): a caller can set the
header on a direct call, and an 8 KB or control-character id would go into every header and line.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from flask import Flask

# flush_logs is also this module's: callers flush through the module that configures logging.
from web.logs import flush_logs, start_log_writer

log = logging.getLogger("qwenfc")


class RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id() or None
        return True


def configure_logging(level: str) -> None:
    """Send the function's logs to stdout (FC collects stdout) as JSON lines. Idempotent."""
    # The request id is read on the request's own thread, while its context is there.
    start_log_writer(log, RequestIdFilter())
    log.setLevel(level)


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity, a key in _unfinished
class _RequestLine:
    request_id: str
    fields: dict[str, Any]  # what the views note(), added to the line when it is written
    log_content: bool


# The request being served on this thread, set by RequestTracking around the app and around the
# sending of its body. A context variable rather than the request's environ behind Flask's
# proxies: views note() several times a request, and each proxy lookup costs about a microsecond.
# Outside a request it is unset: note() raises LookupError, current_request_id() and
# logging_content() answer "" and False.
_current: ContextVar[_RequestLine] = ContextVar("qwenfc_request_line")


def current_request_id() -> str:
    line = _current.get(None)
    return line.request_id if line is not None else ""


def note(**fields: Any) -> None:
    """Add fields to this request's log line."""
    _current.get().fields.update(fields)


def logging_content() -> bool:
    line = _current.get(None)
    return line is not None and line.log_content


def note_content(**fields: Any) -> None:
    """Add message content to the log line, only when the owner turned LOG_CONTENT on."""
    if logging_content():
        note(**fields)


# What an x-fc-request-id must look like to be used: FC's ids ("1-6789abcd-...", UUIDs) do.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")


def request_id_from(environ: dict[str, Any]) -> str:
    """FC's x-fc-request-id when it looks like a request id, else a new one."""
    given = environ.get("HTTP_X_FC_REQUEST_ID")
    if given and REQUEST_ID_PATTERN.fullmatch(given):
        return given
    return secrets.token_hex(16)


# Requests whose log line is not written yet, each with the function that writes it. When the
# instance must stop before they end, `write_unfinished_lines` writes theirs.
_unfinished: dict[object, Callable[..., None]] = {}


def write_unfinished_lines(reason: str) -> int:
    """Write the log line of every request still in progress, marked unfinished (status 503, the
    reason), then flush. Each line is written once: a request that ends later writes nothing more.
    Returns how many there were."""
    pending = list(_unfinished.values())
    for write_line in pending:
        write_line(status=503, unfinished=reason)
    flush_logs()
    return len(pending)


class _BodyThenLine:
    """The app's response body, sent within the request's context, plus the log line to write when
    the server closes it (PEP 3333).

    Unlike Werkzeug's ClosingIterator it adds nothing per item: the server iterates the app's own
    iterator, which matters for streams (one item per event). The server iterates and closes the
    body on the thread that called the app, so the context set in `__iter__` is reset in `close`.
    """

    __slots__ = ("_body", "_line", "_then", "_serving")

    def __init__(self, body: Iterable[bytes], line: _RequestLine, then: Callable[[], None]) -> None:
        self._body, self._line, self._then = body, line, then
        self._serving: Token[_RequestLine] | None = None

    def __iter__(self) -> Iterator[bytes]:
        self._serving = _current.set(self._line)
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                if self._serving is None:  # closed unsent: its close still runs in the request's context
                    self._serving = _current.set(self._line)
                close()
        finally:
            try:
                self._then()
            finally:
                if self._serving is not None:
                    _current.reset(self._serving)
                    self._serving = None


class RequestTracking:
    """WSGI middleware around the Flask app: the request id, the X-Request-Id header, and the one
    log line per request.

    The line is written when the server closes the response: after the body has gone out, so no
    caller waits for it, and for a stream exactly when the stream is over, with its usage and any
    error it ended with. Views add to the line with `note()`; nothing else about a request is
    logged, so no header, body or key can be.
    """

    def __init__(self, app: Any, log_content: bool = False) -> None:
        self.app = app
        self.log_content = log_content

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.perf_counter()
        request_id = request_id_from(environ)
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        fields: dict[str, Any] = {}
        status = [500]

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(status_line[:3])
            if method == "OPTIONS" and status[0] == 200 and ("Content-Length", "0") in headers:
                # Flask's automatic OPTIONS answer is an empty body labelled text/html: say "no content".
                status_line, status[0] = "204 NO CONTENT", 204
                headers = [(name, value) for name, value in headers if name not in ("Content-Type", "Content-Length")]
            headers.append(("X-Request-Id", request_id))
            return start_response(status_line, headers, *([exc_info] if exc_info is not None else []))

        request_line = _RequestLine(request_id, fields, self.log_content)

        def write_line(**final: Any) -> None:
            # Whoever takes the request out of _unfinished writes its line: exactly once.
            if _unfinished.pop(request_line, None) is None:
                return
            if log.isEnabledFor(logging.INFO):
                latency_ms = round((time.perf_counter() - started) * 1000, 1)
                line = {"method": method, "path": path, "status": status[0], "latency_ms": latency_ms, **fields, **final}
                log.info("request", extra={"fields": line, "request_id": request_id})

        _unfinished[request_line] = write_line
        serving = _current.set(request_line)
        try:
            body = self.app(environ, start)
        except BaseException:
            _unfinished.pop(request_line, None)
            raise
        finally:
            _current.reset(serving)
        return _BodyThenLine(body, request_line, write_line)


def init_app(app: Flask, log_content: bool = False) -> None:
    app.wsgi_app = RequestTracking(app.wsgi_app, log_content)  # type: ignore[method-assign]
