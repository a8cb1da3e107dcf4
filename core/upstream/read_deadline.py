"""Every read from DashScope's socket ends by the call's deadline and the instance's stop, whatever
DashScope sends.

UPSTREAM_TIMEOUT_S is a socket timeout: it bounds one silence, and an upstream that sends a byte now
and then (SSE comment lines, an answer one byte a second) never trips it; nor does a stop that begins
while a read waits. So the HTTP responses of the session every call goes through
(core/upstream/session.py) read their socket here: each recv waits at most until the call's
`Deadline` says reads must end (CALL_DEADLINE_S, or the instance's stop: resilience.py), never
longer than the socket's own timeout for one silence, and in slices of at most SLICE_S, so that a
stop that begins while a read waits ends it within a slice. Past the end it raises TimeoutError,
which urllib3 and the SDK report as a read timeout; core/upstream/client.py then names the real
cause (`Deadline.exceeded()`: CallDeadlineExceeded, 504, or InstanceStopping, 503).

The deadline is the one `reading_within` set on the thread that reads (core/upstream/client.py sets
it around each SDK call and each next chunk): a stream is read by the request's own thread.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
from typing import Any, Protocol

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# The longest one recv waits before it looks again at when reads must end (a stop may have begun).
SLICE_S = 1.0
# How much longer than asked a read may wait before its socket is given a new timeout.
_SLICE_SLACK_S = 0.001

_current = threading.local()


class ReadsEnd(Protocol):
    def reads_end(self) -> float | None:
        """When reads must have ended (time.perf_counter() seconds), or None for no limit."""
        ...


class reading_within:  # noqa: N801 - used as a `with` statement, like a function
    """`with reading_within(deadline):` every upstream read on this thread ends by the deadline."""

    __slots__ = ("_deadline", "_prior")

    def __init__(self, deadline: ReadsEnd) -> None:
        self._deadline = deadline

    def __enter__(self) -> None:
        self._prior = getattr(_current, "deadline", None)
        _current.deadline = self._deadline

    def __exit__(self, *_exc: object) -> None:
        _current.deadline = self._prior


class _DeadlineReads(io.RawIOBase):
    """A response's socket, read as SocketIO reads it, but never past when reads must end."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        # The socket counts this open file, as it counts http.client's own: a connection that closes
        # its socket while the response is still being read (Connection: close) closes it for real
        # only once this is closed too.
        self._file = sock.makefile("rb", buffering=0)
        # urllib3 sets its read timeout on the socket just before the response is made: the longest
        # silence allowed. `_timeout` is the socket's timeout now (a slice, once reading starts).
        self._limit = self._timeout = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        sock, deadline = self._sock, getattr(_current, "deadline", None)
        now = time.perf_counter()
        silent_until = None if self._limit is None else now + self._limit
        try:
            while True:
                ends = deadline.reads_end() if deadline is not None else None
                if silent_until is not None:
                    ends = silent_until if ends is None else min(ends, silent_until)
                wait = SLICE_S if ends is None else min(SLICE_S, ends - now)
                if wait <= 0:
                    raise TimeoutError("timed out")
                # Setting a socket's timeout is a syscall that lets go of the GIL, twice a read if done
                # each time: with 200 streams on a core every extra release is a likely thread switch
                # (docs/performance.md, "200 long streams on one instance"). So the socket keeps its
                # slice, and gets a new one only when it would wait past `wait`, or wake well before.
                timeout = self._timeout
                if timeout is None or timeout > wait + _SLICE_SLACK_S or timeout < wait / 2:
                    sock.settimeout(wait)
                    self._timeout = wait
                try:
                    return sock.recv_into(buffer)
                except TimeoutError:
                    now = time.perf_counter()  # a slice ended: look again at when reads must end
        except BaseException:
            self._restore_timeout()
            raise

    def _restore_timeout(self) -> None:
        # The connection goes back to urllib3's pool with the timeout it gave (it sets its own again
        # before the next request, but nothing else should find a slice there).
        if self._timeout != self._limit:
            self._timeout = self._limit
            try:
                self._sock.settimeout(self._limit)
            except OSError:  # the socket is closed already
                pass

    def close(self) -> None:
        if not self.closed:
            self._restore_timeout()
            self._file.close()
        super().close()


class _ReadsWithinDeadline:
    """What http.client's response takes of its socket (`makefile`), reading through the deadline."""

    __slots__ = ("_sock",)

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def makefile(self, _mode: str, *_args: Any, **_kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReads(self._sock))


class _Response(http.client.HTTPResponse):
    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        if all(hasattr(sock, name) for name in ("recv_into", "gettimeout", "settimeout", "makefile")):
            sock = _ReadsWithinDeadline(sock)
        super().__init__(sock, *args, **kwargs)


class _HTTPConnection(HTTPConnection):
    response_class = _Response


class _HTTPSConnection(HTTPSConnection):
    response_class = _Response


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


# For urllib3's PoolManager (`pool_classes_by_scheme`): connections whose responses read through the deadline.
POOL_CLASSES = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}
