"""The log writer: the function's log records as JSON lines on stdout (FC collects stdout).

Each line is formatted by the thread that logs it and handed to one writer thread, which wakes every
WRITE_INTERVAL_S and writes whatever is pending in one write. The writer used to be woken for each
line: that wake-up, a thread switch per request, cost more CPU than writing the line
(scripts/benchmark: about 0.1 ms a call). Writing on the logging thread instead saves the same, but
a stdout that blocks (FC's log collector stalled) would then hold every thread that logs; here it
holds only the writer, and at most MAX_PENDING_LINES wait for it: past that, lines are dropped and
counted, and the count is written when stdout takes lines again.

`flush_logs` writes out everything logged before it (FC's pre-stop hook, the stop path, the exit,
tests): safe from any thread, concurrently, any number of times; it waits at most FLUSH_WAIT_S for a
blocked stdout. A stdout that is gone (a broken pipe) fails nothing: the lines are dropped.
"""

from __future__ import annotations

import atexit
import collections
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


# How often the writer writes what is pending: a line is out at most this long after it is logged.
WRITE_INTERVAL_S = 0.05
# Lines waiting for a stdout that does not take them (memory stays bounded): past this, lines are dropped.
MAX_PENDING_LINES = 10_000
# How long a flush waits for the writer: a stuck stdout must not hang a request (or the exit) forever.
FLUSH_WAIT_S = 5.0


class BatchedStdoutHandler(logging.Handler):
    """Formats each record on the thread that logs it; one writer thread writes the lines to whatever
    sys.stdout is then, a batch at a time."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: collections.deque[str] = collections.deque()
        self._queued = 0  # lines ever put in _pending (under the handler's lock)
        self._done = 0  # of those, lines written, or given up on when stdout was gone (under _progress)
        self._dropped = 0  # lines not queued since the last batch: too many were pending
        self._progress = threading.Condition()
        self._flush_asked = threading.Event()
        threading.Thread(target=self._write_forever, name="log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging's own convention: report it on stderr, never raise
            self.handleError(record)
            return
        if len(self._pending) >= MAX_PENDING_LINES:
            self._dropped += 1
            return
        self._pending.append(line)
        self._queued += 1

    def _write_forever(self) -> None:
        while True:
            self._flush_asked.wait(WRITE_INTERVAL_S)
            self._flush_asked.clear()
            if self._pending or self._dropped:
                self._write_pending()

    def _write_pending(self) -> None:
        lines = [self._pending.popleft() for _ in range(len(self._pending))]
        written = len(lines)
        dropped, self._dropped = self._dropped, 0
        if dropped:
            lines.append(log_json({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "WARNING",
                                   "logger": "qwenfc", "message": f"{dropped} log lines dropped: stdout did not take them"}))
        try:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass  # stdout is gone (its reader closed: BrokenPipeError; closed: ValueError): nowhere to write
        with self._progress:
            self._done += written
            self._progress.notify_all()

    def flush(self) -> None:
        """Wait until every line logged before this call is out: at most FLUSH_WAIT_S, for a stdout
        that blocks. The writer thread writes them, now."""
        with self._progress:
            target = self._queued
            if self._done >= target:
                return
            self._flush_asked.set()
            self._progress.wait_for(lambda: self._done >= target, timeout=FLUSH_WAIT_S)


_handler: BatchedStdoutHandler | None = None
_handler_lock = threading.Lock()


def start_log_writer(logger: logging.Logger, record_filter: logging.Filter) -> None:
    """Write `logger`'s records as JSON lines to stdout (set up once; later calls do nothing)."""
    global _handler
    with _handler_lock:
        if _handler is None:
            _handler = BatchedStdoutHandler()
            _handler.setFormatter(JsonLogFormatter())
            _handler.addFilter(record_filter)
            logger.addHandler(_handler)
            atexit.register(flush_logs)


def flush_logs() -> None:
    """Write out every line logged so far (FC's pre-stop hook, the stop path, the exit, tests). Safe
    from any thread, concurrently, any number of times; never raises."""
    if _handler is not None:
        _handler.flush()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass  # stdout is gone: see _write_pending
