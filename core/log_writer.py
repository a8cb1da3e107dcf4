"""The log writer: one background thread formats the function's log records as JSON lines and
writes them to stdout (FC collects stdout). The thread that logs only pays for a queue put.

`flush_logs` waits for the thread to have written everything logged before it; it is safe from any
thread, concurrently, any number of times. Only the process's exit stops the thread.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
import time
from logging.handlers import QueueHandler, QueueListener
from typing import Any

from core.json_output import log_json


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ms), level, logger, request id, message, and fields."""

    def __init__(self) -> None:
        super().__init__()
        # Only the writer thread formats; the second's text is made once per second, not per line.
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


class DeferredQueueHandler(QueueHandler):
    """Hands records to the writer thread as they are: the thread that logs pays for a queue put;
    the JSON formatting and the write to stdout happen on the writer thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # QueueHandler would format here, on the caller's thread, to make the record picklable.
        # This queue never leaves the process, and our records carry data, not %-arguments.
        return record


class _FlushRequest:
    """Put through the queue by `flush_logs`: the writer reaches it once every line before it is out."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class LogWriter(QueueListener):
    """The one thread that formats and writes log lines; it also answers flush requests.

    Flushing never stops or restarts the thread (which raced when two requests flushed at once, and
    could leave no thread writing): it waits for the thread to reach a marker. Only the exit stops it.
    """

    def handle(self, record: logging.LogRecord | _FlushRequest) -> None:  # type: ignore[override]
        if isinstance(record, _FlushRequest):
            sys.stdout.flush()
            record.done.set()
            return
        super().handle(record)


# How long a flush waits for the writer: a stuck stdout must not hang a request (or the exit) forever.
FLUSH_WAIT_S = 5.0
_writer: LogWriter | None = None
_records: queue.SimpleQueue | None = None
_writer_lock = threading.Lock()
_writer_stopped = False


def start_log_writer(logger: logging.Logger, record_filter: logging.Filter) -> None:
    """Hand `logger`'s records to the writer thread (started once; later calls do nothing)."""
    global _writer, _records
    with _writer_lock:
        if _writer is None:
            output = StdoutHandler()
            output.setFormatter(JsonLogFormatter())
            _records = queue.SimpleQueue()
            handoff = DeferredQueueHandler(_records)
            handoff.addFilter(record_filter)
            logger.addHandler(handoff)
            _writer = LogWriter(_records, output)
            _writer.start()
            atexit.register(stop_log_writer)


def flush_logs(wait_s: float = FLUSH_WAIT_S) -> None:
    """Write out every line logged so far (FC's pre-stop hook, the worker's exit, tests).

    Safe from any thread, concurrently, any number of times: each call waits (at most `wait_s`)
    for the writer thread to reach its own marker in the queue.
    """
    if _records is not None and not _writer_stopped:
        request = _FlushRequest()
        _records.put(request)
        request.done.wait(wait_s)
    sys.stdout.flush()


def stop_log_writer() -> None:
    """At exit: write every line still queued and stop the writer thread. Once; later calls only flush."""
    global _writer_stopped
    with _writer_lock:
        if _writer is not None and not _writer_stopped:
            _writer_stopped = True
            _writer.stop()  # drains the queue, then joins the thread
    sys.stdout.flush()
