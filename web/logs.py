"""The log writer: the function's log records as JSON lines on stdout (FC collects stdout), each
written by the thread that logs it, in one write, when it is logged.

Lines used to go through a queue to a writer thread. Waking that thread for every request's line
cost more than writing the line (scripts/benchmark: about 0.1 ms of server CPU per call), and the
request's line is written after its answer has gone out (web/tracking.py), so no caller waits for
it either way. A stdout that blocks (FC's log collector stalled) now holds every thread that logs
(they take turns at the handler's lock), where the queue grew without bound: a request's line waits
after its answer, but a line logged before one (a refused key, an unreadable answer) holds that too.
A stdout that is gone (a broken pipe) fails no request: logging reports the line on stderr.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from web.json_output import log_json


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, request id, message, and fields."""

    def __init__(self) -> None:
        super().__init__()
        # The second's text is made once per second, not per line. Lines are formatted under the
        # handler's lock (logging.Handler.handle), one at a time.
        self._second, self._second_text = -1, ""

    def _utc_time(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second, self._second_text = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{int(created % 1 * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return log_json(entry)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is when a record is emitted, not when the handler was made."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stdout

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


_handler: logging.Handler | None = None
_handler_lock = threading.Lock()


def start_log_writer(logger: logging.Logger, record_filter: logging.Filter) -> None:
    """Write `logger`'s records as JSON lines to stdout (set up once; later calls do nothing)."""
    global _handler
    with _handler_lock:
        if _handler is None:
            _handler = StdoutHandler()
            _handler.setFormatter(JsonLogFormatter())
            _handler.addFilter(record_filter)
            logger.addHandler(_handler)


def flush_logs() -> None:
    """Make sure every line logged so far is out (FC's pre-stop hook, the worker's exit, tests).
    Each line is written when it is logged; this flushes stdout. Safe from any thread, any time."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        # stdout is gone (its reader closed: BrokenPipeError; closed: ValueError). Nothing more can be
        # written, and FC's pre-stop hook and the stop path must not fail for it; logging itself
        # reports each line it could not write on stderr.
        pass
