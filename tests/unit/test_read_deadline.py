"""Reads from DashScope's socket (core/upstream/read_deadline.py), on a real socket pair: a read never
waits past when reads must end, and the socket's timeout is set once a response, not twice a read
(each set is a syscall that lets go of the GIL: with 200 streams on a core, a likely thread switch)."""

from __future__ import annotations

import socket
import time
from typing import Any, Iterator

import pytest

from core.upstream.read_deadline import SLICE_S, _DeadlineReads, reading_within

URLLIB3_READ_TIMEOUT_S = 30.0  # what urllib3 set on the socket before the response was made


class _CountedTimeouts:
    """The reading end of the pair, counting the timeouts set on it (the seam: the syscall itself)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock, self.timeouts_set = sock, []

    def settimeout(self, value: float | None) -> None:
        self.timeouts_set.append(value)
        self._sock.settimeout(value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Ends:
    def __init__(self, at: float | None) -> None:
        self.at = at

    def reads_end(self) -> float | None:
        return self.at


@pytest.fixture
def pair() -> Iterator[tuple[_CountedTimeouts, socket.socket]]:
    reader, writer = socket.socketpair()
    reader.settimeout(URLLIB3_READ_TIMEOUT_S)
    yield _CountedTimeouts(reader), writer
    reader.close()
    writer.close()


def test_many_reads_set_the_socket_timeout_once_and_give_it_back_at_the_close(pair) -> None:
    reader, writer = pair
    reads = _DeadlineReads(reader)
    buffer = bytearray(64)
    with reading_within(_Ends(time.perf_counter() + 60)):
        for event in (b"data:1\n\n", b"data:2\n\n", b"data:3\n\n"):
            writer.sendall(event)
            assert bytes(buffer[: reads.readinto(buffer)]) == event
    assert reader.timeouts_set == [SLICE_S]  # one slice for all three reads
    reads.close()
    assert reader.timeouts_set == [SLICE_S, URLLIB3_READ_TIMEOUT_S]
    assert reader.gettimeout() == URLLIB3_READ_TIMEOUT_S


def test_a_read_ends_at_the_deadline_sooner_than_a_slice_and_the_socket_gets_its_timeout_back(pair) -> None:
    reader, _writer = pair
    reads = _DeadlineReads(reader)
    started = time.perf_counter()
    with reading_within(_Ends(started + 0.3)), pytest.raises(TimeoutError):
        reads.readinto(bytearray(64))  # nothing is ever sent
    assert 0.25 <= time.perf_counter() - started < 0.3 + 0.2
    assert reader.gettimeout() == URLLIB3_READ_TIMEOUT_S


def test_a_silence_longer_than_the_read_timeout_ends_the_read(pair) -> None:
    reader, _writer = pair
    reader.settimeout(0.2)  # UPSTREAM_TIMEOUT_S, shorter than a slice
    reads = _DeadlineReads(reader)
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        reads.readinto(bytearray(64))
    assert 0.15 <= time.perf_counter() - started < 0.2 + 0.2
    assert reader.gettimeout() == 0.2
