"""The emulator's kept-alive connections send without Nagle's delay.

Its chunked framing writes a size line and then the data, and a Content-Length answer its head and
then its body: with Nagle's algorithm on, the second send waits for the client's delayed ACK of the
first (40 ms on Linux), on every answer of a kept-alive connection, which hid everything the
benchmark measures under a stall DashScope does not have. What a client sees is that stall: answers
on one kept-alive connection each 40 ms late, or not; no machine is slow enough to take 40 ms to
answer a health check over loopback, 30 times in a row."""

from __future__ import annotations

import http.client
import time

from scripts.emulator import Emulator

ANSWERS = 30
NAGLE_STALL_S = 0.040  # Linux's delayed ACK: what each answer would wait with Nagle's algorithm on


def test_answers_on_a_kept_alive_connection_do_not_wait_for_delayed_acks():
    emulator = Emulator().start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
        took = []
        for _ in range(ANSWERS):
            started = time.perf_counter()
            connection.request("GET", "/_emulator/health")
            response = connection.getresponse()
            response.read()
            took.append(time.perf_counter() - started)
            assert response.status == 200 and not response.will_close  # the same connection throughout
        connection.close()
    finally:
        emulator.stop()
    stalled = [t for t in took if t >= NAGLE_STALL_S]
    assert len(stalled) < ANSWERS // 2, f"{len(stalled)} of {ANSWERS} answers waited {NAGLE_STALL_S * 1000:.0f} ms or more"
