"""An HTTP/1.1 server for the emulator that keeps connections alive, as DashScope does.

Werkzeug's development server always answers ``Connection: close`` (and after each response reads
whatever the client sent next, which would eat a kept-alive connection's next request). This
handler reuses Werkzeug's request parsing but writes the response itself: ``Content-Length`` when
the app gives one, chunked framing otherwise, and the connection stays open unless the client asked
to close it or the response could not be finished.
"""

from __future__ import annotations

import io
import socket
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def _no_delay(self) -> None:
        # A chunk is written as two sends (size line, then data): with Nagle's algorithm on, the
        # second waits for the client's delayed ACK of the first, 40 ms on Linux, on every kept-alive
        # response. DashScope does not stall like that; the emulator must not either.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No access log: tests run thousands of requests and read the history instead."""

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        # The whole request body is read before the app runs, so the next request on this
        # connection starts exactly where this one ended, whatever the app read.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        chunked = environ.get("wsgi.input_terminated", False)
        data = environ["wsgi.input"].read() if chunked else (self.rfile.read(length) if length else b"")
        environ["wsgi.input"] = io.BytesIO(data)
        environ.pop("wsgi.input_terminated", None)
        environ["CONTENT_LENGTH"] = str(len(data))
        state: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            state["status"], state["headers"] = status, headers
            return lambda chunk: None  # the legacy write() callable; the app here never uses it

        def send_head() -> None:
            code, _, reason = state["status"].partition(" ")
            self.send_response(int(code), reason)
            names = set()
            for name, value in state["headers"]:
                if name.lower() != "connection":
                    self.send_header(name, value)
                    names.add(name.lower())
            bodiless = self.command == "HEAD" or int(code) in (204, 304) or int(code) < 200
            state["chunked"] = not bodiless and "content-length" not in names
            if state["chunked"]:
                self.send_header("Transfer-Encoding", "chunked")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()

        body = self.server.app(environ, start_response)
        try:
            for chunk in body:
                if "chunked" not in state:
                    send_head()
                if chunk and state["chunked"]:
                    # Size line and data in two writes: a reader that went away makes the second
                    # one fail, so a stream notices at the event it could not deliver.
                    self.wfile.write(b"%x\r\n" % len(chunk))
                    self.wfile.write(chunk + b"\r\n")
                elif chunk:
                    self.wfile.write(chunk)
            if "chunked" not in state:
                send_head()
            if state["chunked"]:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (ConnectionError, socket.timeout, OSError):
            self.close_connection = True  # the reader went away, or the app dropped the connection
        finally:
            if hasattr(body, "close"):
                body.close()

    def setup(self) -> None:
        super().setup()
        self._no_delay()
        self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)
        super().finish()


class KeepAliveServer(ThreadedWSGIServer):
    """Threaded, one thread a connection; `close_connections` ends the kept-alive ones on stop."""

    daemon_threads = True
    # The listen backlog (werkzeug's is 128): a burst of 200 streams opening their upstream
    # connections at once (FC sends an instance up to 200 calls) overflowed it, and each connection
    # the kernel dropped came back only with the client's SYN retry, a second later. DashScope does
    # not add that second; the emulator must not either (the benchmark's 200-stream row).
    request_queue_size = 1024

    def __init__(self, host: str, port: int, app: Any) -> None:
        self.open_connections: set[socket.socket] = set()
        super().__init__(host, port, app, handler=KeepAliveHandler)

    def close_connections(self) -> None:
        for connection in list(self.open_connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
