"""Request ids and logs: one JSON line per request, and the request id on every log line.

The request id is FC's ``x-fc-request-id`` when FC sent one (so our log lines join FC's own), else a
new one; it goes back to the caller as ``X-Request-Id``. Nothing here logs headers, bodies or keys:
the line carries what the views `note()`, which is metadata only.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

log = logging.getLogger("qwenfc")


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = getattr(g, "request_id", None)
        return True


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is when a record is emitted, not when the handler was made."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stdout

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str) -> None:
    """Send the function's logs to stdout (FC collects stdout) as JSON lines. Idempotent."""
    if not any(isinstance(handler, StdoutHandler) for handler in log.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonLogFormatter())
        handler.addFilter(RequestIdFilter())
        log.addHandler(handler)
    log.setLevel(level)


def flush_logs() -> None:
    for handler in log.handlers:
        handler.flush()
    sys.stdout.flush()


def current_request_id() -> str:
    return getattr(g, "request_id", "") or ""


def note(**fields: Any) -> None:
    """Add fields to this request's log line."""
    g.setdefault("log_fields", {}).update(fields)


def logging_content() -> bool:
    return bool(current_app.config.get("LOG_CONTENT"))


def note_content(**fields: Any) -> None:
    """Add message content to the log line, only when the owner turned LOG_CONTENT on."""
    if logging_content():
        note(**fields)


def defer_log_until_stream_ends() -> None:
    """The view answered with a stream: write the line when the stream is over, not now."""
    g.log_deferred = True


def stream_ended() -> None:
    g.log_deferred = False


def _begin() -> None:
    g.request_id = request.headers.get("x-fc-request-id") or uuid.uuid4().hex
    g.started = time.perf_counter()
    g.log_fields = {}


def _stamp(response: Response) -> Response:
    if request.method == "OPTIONS" and not response.get_data():
        # Flask's automatic OPTIONS answer is an empty body labelled text/html: say "no content".
        response.status_code = 204
        del response.headers["Content-Type"]
    response.headers["X-Request-Id"] = g.request_id
    g.status = response.status_code
    return response


def _log_request(_exc: BaseException | None) -> None:
    # Flask 3.1 tears a streamed request down twice: when the view returns and when the stream
    # (run under stream_with_context) ends. Only the second one knows how the stream went.
    if not hasattr(g, "started") or getattr(g, "log_deferred", False):
        return
    fields = {
        "method": request.method,
        "path": request.path,
        "status": getattr(g, "status", 500),
        "latency_ms": round((time.perf_counter() - g.started) * 1000, 1),
    }
    fields.update(g.log_fields)
    log.info("request", extra={"fields": fields})


def install_request_tracking(app: Flask, log_content: bool = False) -> None:
    app.config["LOG_CONTENT"] = log_content
    app.before_request(_begin)
    app.after_request(_stamp)
    app.teardown_request(_log_request)
