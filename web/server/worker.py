"""The gunicorn worker this function runs under (gunicorn.conf.py): gthread, with two changes.

Why a worker of our own:

1. **A slow client must not hold a thread.** gthread hands a connection to a pool thread as soon as
   any byte arrives, and the thread then blocks until the whole request head is in. 300 connections
   that send half a request and wait (or trickle a byte a second) held all 256 threads, and the
   instance answered nothing else. Here the worker's event loop (one thread, non-blocking sockets)
   reads the request head, and a body of known length up to `MAX_BUFFERED_BODY`, and only a request
   that is all there goes to a pool thread. What is not all there within `REQUEST_READ_TIMEOUT_S`
   is answered 408 and closed (503 `InstanceStopping` when the instance is stopping: then it waits
   only as long as gthread keeps kept-alive connections, STOP_KEEPALIVE_LINGER). Keep-alive, streams
   and 256 threads are gthread's own. A connection closed after a refusal lingers here, not in a
   thread: the client's unread body is read and dropped (LINGER_S) so that it can read its answer.
   Stopping, the listening sockets close at once (new connections are refused, not left in the
   backlog until the exit), and a request begun on a kept-alive connection gets 503 InstanceStopping.
   Bodies over `MAX_BUFFERED_BODY`, chunked bodies and `Expect: 100-continue` are read by the
   thread, as gthread does, within the same REQUEST_READ_TIMEOUT_S (web/request_body.py: 408 past
   it; the app refuses bodies over MAX_BODY_BYTES). `Expect: 100-continue` with a Content-Length
   over MAX_BODY_BYTES is refused (413) here, before gunicorn would send `100 Continue`.
2. **The server's own errors are JSON.** gunicorn answers a request it cannot parse (bad request
   line 400, URI too long 414, header fields too large 431, ...) with an HTML page. Here they get
   the function's error body ``{"status_code", "request_id", "code", "message"}`` (core/errors.py)
   and an X-Request-Id header, and one JSON log line like any request.
"""

from __future__ import annotations

import secrets
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from core.config import Config
from web.server.quick_stop import QuickStop
from web.server.request_head import buffered_body_length, expects_too_large_body, head_is_complete
from web.server.worker_errors import json_error_response, log_refused, status_for

# gunicorn.conf.py has checked the settings (a bad one stops the start in one line, exit 2).
_CONFIG = Config.from_env()
# Time a client has to send a whole request head (and a buffered body), from connecting or from its
# first byte on a kept-alive connection. FC's front end sends a request at once. The thread that
# reads a body the loop does not (web/request_body.py) gives it the same time.
REQUEST_READ_TIMEOUT_S = _CONFIG.request_read_timeout_s
# A request that announces a body over this behind `Expect: 100-continue` is refused (413) before
# gunicorn would tell the client to go on and send it.
MAX_BODY_BYTES = _CONFIG.max_body_bytes
# A head larger than this is refused (431) without reading on: it bounds the memory one connection
# holds while it is read (gunicorn's own limits, 8190 bytes a field and 100 fields, still apply).
MAX_HEAD_BYTES = 64 * 1024
_RECV_SIZE = 64 * 1024
STOPPING_MESSAGE = "this instance is stopping (FC is shutting it down) and did not take this request; send it again"
# After a refusal (ours, or the app's answer to a request whose body it did not read: a 401, a 429, a
# 413; web/request_body.py), what the client still sends is read and dropped here, holding no thread,
# for this long and up to this much: closing with unread bytes would reset the connection before the
# client reads the answer. The time is a body read's (REQUEST_READ_TIMEOUT_S), capped at 5 s.
LINGER_S = min(5.0, REQUEST_READ_TIMEOUT_S)
LINGER_BYTES = 16 * 1024 * 1024
# While the instance stops, a linger lasts at most this: the answer is out, and the worker's exit waits.
STOP_LINGER_S = 1.0


class RequestReadingWorker(QuickStop, ThreadWorker):
    """gthread whose event loop reads each request before a pool thread serves it (and whose quick
    stop, web/server/quick_stop.py, happens once and at once)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections being read, oldest deadline first (every deadline is now + the same timeout).
        self.reading: dict[TConn, float] = {}
        # Refused connections whose answer is out, read until the client is done (LINGER_S).
        self.lingering: dict[TConn, float] = {}

    def enqueue_req(self, conn: TConn) -> None:
        if getattr(conn, "request_read", False) or self.cfg.is_ssl:
            conn.request_read = False
            super().enqueue_req(conn)
            return
        conn.received = bytearray()
        if conn.parser is not None:  # a kept-alive connection: bytes read ahead belong to this request
            conn.received += conn.parser.unreader.take_buffered()
        conn.scan_from, conn.head_end, conn.watched = 0, -1, False
        conn.sock.setblocking(False)
        # A request begun once the instance is stopping (on a kept-alive connection: new ones are
        # refused at the socket) is answered 503 InstanceStopping as soon as its head is in.
        conn.after_stop = not self.alive
        self.reading[conn] = time.monotonic() + (STOP_KEEPALIVE_LINGER if conn.after_stop else REQUEST_READ_TIMEOUT_S)
        if conn.received:
            self.check_request(conn)
        else:  # a kept-alive connection came here because it is readable: read now, poll only if needed
            self.on_request_bytes(conn)

    def watch(self, conn: TConn) -> None:
        """Poll the connection until its request is all there."""
        if not conn.watched:
            conn.watched = True
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn: TConn, _sock: Any = None) -> None:
        # Never more than the bounds below: a head one byte over its limit, a body exactly its length.
        if conn.head_end < 0:
            wanted = MAX_HEAD_BYTES + 1 - len(conn.received)
        else:
            wanted = conn.head_end + conn.body_wanted - len(conn.received)
        try:
            data = conn.sock.recv(min(_RECV_SIZE, wanted))
        except (BlockingIOError, InterruptedError):
            self.watch(conn)
            return
        except OSError:
            data = b""
        if not data:  # the client went away before sending a whole request
            self.stop_reading(conn)
            self.drop(conn)
            return
        conn.received += data
        self.check_request(conn)

    def check_request(self, conn: TConn) -> None:
        received = conn.received
        if conn.head_end < 0:
            conn.head_end = head_is_complete(received, conn.scan_from)
            head_size = conn.head_end if conn.head_end >= 0 else len(received)
            if head_size > MAX_HEAD_BYTES:
                self.refuse(conn, 414 if b"\n" not in received[:head_size] else 431,
                            f"the request head is larger than {MAX_HEAD_BYTES} bytes")
                return
            if conn.head_end < 0:
                conn.scan_from = max(0, len(received) - 3)
                self.watch(conn)
                return
            if conn.after_stop:
                self.refuse(conn, 503, STOPPING_MESSAGE, code="InstanceStopping")
                return
            head = bytes(received[:conn.head_end])
            if expects_too_large_body(head, MAX_BODY_BYTES):
                self.refuse(conn, 413, f"the body is larger than {MAX_BODY_BYTES} bytes (MAX_BODY_BYTES)")
                return
            conn.body_wanted = buffered_body_length(head)
        if len(received) - conn.head_end >= conn.body_wanted:
            self.stop_reading(conn)
            conn.request_read = True
            self.enqueue_req(conn)
        else:
            self.watch(conn)

    def stop_reading(self, conn: TConn) -> None:
        del self.reading[conn]
        if conn.watched:
            conn.watched = False
            self.poller.unregister(conn.sock)

    def drop(self, conn: TConn) -> None:
        self.nr_conns -= 1
        conn.close()

    def refuse(self, conn: TConn, status: int, message: str, code: str | None = None) -> None:
        """Answer from the event loop (a few hundred bytes to a socket with room for them) and close."""
        self.stop_reading(conn)
        request_id = secrets.token_hex(16)
        log_refused(status, message, request_id)
        try:
            conn.sock.send(json_error_response(status, message, request_id, code))
        except OSError:
            self.drop(conn)
            return
        self.linger(conn)

    def linger(self, conn: TConn) -> None:
        """Close after the answer: send FIN, read what the client still sends (in the poller), then close."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.drop(conn)
            return
        conn.sock.setblocking(False)
        conn.linger_left = LINGER_BYTES
        self.lingering[conn] = time.monotonic() + (LINGER_S if self.alive else min(LINGER_S, STOP_LINGER_S))
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_linger_bytes, conn))

    def on_linger_bytes(self, conn: TConn, _sock: Any = None) -> None:
        try:
            data = conn.sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.linger_left -= len(data)
        if not data or conn.linger_left <= 0:
            self.end_linger(conn)

    def end_linger(self, conn: TConn) -> None:
        del self.lingering[conn]
        self.poller.unregister(conn.sock)
        self.drop(conn)

    def finish_request(self, conn: TConn, fs: Any) -> None:
        # gthread closes a connection it will not keep gracefully in this event loop: FIN, then up to
        # 2 s blocked waiting for the client's. A client that never closes (a body cut at its
        # deadline, `Connection: close` and silence) stalled every other connection. Linger here.
        try:
            closing = not fs.cancelled() and fs.exception() is None and fs.result() is False
        except Exception:  # noqa: BLE001 - whatever it is, gthread's own handling follows
            closing = False
        if not closing:
            super().finish_request(conn, fs)
            return
        self.linger(conn)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and not getattr(self, "stop_capped", False):
            # Stopping: a request still being sent gets as long as gthread gives a kept-alive
            # connection (a client that sends its request at once, as FC's front end does, is served).
            self.stop_capped = True
            for conn in self.reading:
                self.reading[conn] = min(self.reading[conn], now + STOP_KEEPALIVE_LINGER)
            for conn in self.lingering:  # nor does a refused client's linger hold the exit up
                self.lingering[conn] = min(self.lingering[conn], now + STOP_LINGER_S)
        while self.reading:
            conn, deadline = next(iter(self.reading.items()))
            if deadline > now:
                break
            if conn.received and not self.alive:
                self.refuse(conn, 503, STOPPING_MESSAGE, code="InstanceStopping")
            elif conn.received:
                self.refuse(conn, 408, f"the request was not all sent within {REQUEST_READ_TIMEOUT_S:g} s")
            else:  # nothing sent: an idle connection, closed as gunicorn closes idle keep-alives
                self.stop_reading(conn)
                self.drop(conn)
        while self.lingering:
            conn, deadline = next(iter(self.lingering.items()))
            if deadline > now:
                break
            self.end_linger(conn)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            # Stopping (gunicorn's master has closed its copy of the listening sockets already): new
            # connections are refused at the socket now, rather than left in the listen backlog until
            # the worker exits (graceful_timeout, 30 s) and reset then.
            for listener in self.sockets:
                listener.close()

    def handle(self, conn: TConn) -> Any:
        received = getattr(conn, "received", None)
        if received is not None:
            conn.received = None
            conn.data_ready = True  # gthread would otherwise wait for bytes we already read
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(bytes(received))
        return super().handle(conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status, request_id = status_for(exc), secrets.token_hex(16)
        req = req or getattr(exc, "req", None)  # a header error carries the request it was found in
        if status == 500:
            self.log.exception("Error handling request (request_id=%s)", request_id)
            message = "internal error; quote the request id when reporting it"
        else:
            # gunicorn's words for what is wrong, cut short: they quote the caller's bytes.
            message = f"the server could not read this request: {type(exc).__name__}: {str(exc)[:200]}"
        log_refused(status, message, request_id, req)
        try:
            util.write_nonblock(client, json_error_response(status, message, request_id))
        except Exception:  # noqa: BLE001 - the client may be gone; nothing more to tell it
            self.log.debug("Failed to send error message.")
