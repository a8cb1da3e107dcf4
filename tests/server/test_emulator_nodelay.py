"""The emulator's kept-alive connections send without Nagle's delay.

Its chunked framing writes a size line and then the data, and a Content-Length answer its head and
then its body: with Nagle's algorithm on, the second send waits for the client's delayed ACK of the
first (40 ms on Linux), on every answer of a kept-alive connection, which hid everything the
benchmark measures under a stall DashScope does not have. What the socket is set to is the fact to
hold; the benchmark measures what it costs."""

from __future__ import annotations

import http.client
import socket

from scripts.emulator import Emulator

def test_accepted_connections_have_tcp_nodelay():
    emulator = Emulator().start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
        connection.request("GET", "/_emulator/health")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        served = list(emulator._server.open_connections)  # the server's side of the connection above
        assert served, "the kept-alive connection is still open"
        assert all(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for sock in served)
        connection.close()
    finally:
        emulator.stop()
