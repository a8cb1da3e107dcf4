"""Log lines go out through one writer thread (web/logs.py). When stdout is gone (FC's log collector
died: the pipe's reader closed), logging and flushing must not fail what the function is doing: FC's
pre-stop hook still answers, the stop path (write_unfinished_lines) still does what it can. When
stdout blocks (the collector stalled), it holds only the writer: the threads that log go on, and the
lines waiting for it are bounded."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import threading
import time
from typing import Iterator

import pytest

import web.logs
from web.logs import flush_logs
from web.tracking import configure_logging, write_unfinished_lines

log = logging.getLogger("qwenfc")


@contextlib.contextmanager
def stdout_gone(closed: bool = False) -> Iterator[None]:
    """sys.stdout a pipe whose reader has closed (every write and flush a BrokenPipeError), or closed.
    Entered in the test's body: pytest's capture sets sys.stdout again between a test's phases."""
    reader, writer = os.pipe()
    os.close(reader)
    broken = os.fdopen(writer, "w")
    if closed:
        broken.close()
    saved, sys.stdout = sys.stdout, broken
    try:
        yield
    finally:
        sys.stdout = saved
        with contextlib.suppress(OSError):
            broken.close()


@pytest.fixture(autouse=True)
def quiet_logging_errors(monkeypatch):
    configure_logging("INFO")
    # logging reports a line it could not write on stderr, and goes on: not what these tests are about.
    monkeypatch.setattr(logging, "raiseExceptions", False)


def test_flush_logs_survives_a_broken_pipe():
    with stdout_gone():
        log.warning("a line nobody will read")  # left in stdout's buffer: the flush tries it again
        flush_logs()
        assert write_unfinished_lines("the instance stopped before the call ended") == 0


def test_flush_logs_survives_a_closed_stdout():
    """The flush gives up on the line at once (it does not wait FLUSH_WAIT_S for it), and the writer
    lives on: once stdout is back, the next line is out."""
    with stdout_gone(closed=True):
        log.warning("a line with nowhere to go")
        started = time.monotonic()
        flush_logs()
        assert time.monotonic() - started < web.logs.FLUSH_WAIT_S / 2
    back = io.StringIO()
    saved, sys.stdout = sys.stdout, back
    try:
        log.warning("stdout is back")
        flush_logs()
    finally:
        sys.stdout = saved
    written = [json.loads(line) for line in back.getvalue().splitlines()]
    assert [line["message"] for line in written] == ["stdout is back"]  # the lost line dropped, not replayed


def test_pre_stop_answers_with_stdout_gone(client):
    with stdout_gone():
        log.warning("a line nobody will read")
        response = client.get("/pre-stop", headers={"x-fc-control-path": "/pre-stop"})
    assert response.status_code == 200 and response.get_json()["status"] == "stopping"


class BlockingStdout:
    """A stdout that takes nothing until `unblock()`: the first write waits there (`entered` is set)."""

    def __init__(self) -> None:
        self.text, self.entered, self._go = "", threading.Event(), threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self._go.wait(10)
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def unblock(self) -> None:
        self._go.set()


def test_a_blocked_stdout_holds_no_thread_that_logs_and_the_lines_waiting_are_bounded(monkeypatch):
    monkeypatch.setattr(web.logs, "MAX_PENDING_LINES", 5)
    stdout = BlockingStdout()
    saved, sys.stdout = sys.stdout, stdout
    try:
        log.warning("the first line, which the writer is stuck writing")
        assert stdout.entered.wait(5)
        logging_thread = threading.Thread(target=lambda: [log.warning(f"line {number}") for number in range(12)])
        logging_thread.start()
        logging_thread.join(5)
        assert not logging_thread.is_alive()  # nothing waited for stdout
        stdout.unblock()
        flush_logs()
    finally:
        sys.stdout = saved
    written = stdout.text
    assert "the first line" in written
    assert all(f'"line {number}"' in written for number in range(5))
    assert '"line 5"' not in written and '"line 11"' not in written
    assert "7 log lines dropped: stdout did not take them" in written
