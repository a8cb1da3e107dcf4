"""Waiting in tests on something observable, never on a fixed sleep: a condition polled until a
deadline, the connections a server process has accepted, the answers read off a connection."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Callable

from scripts.fc_process import process_tree


def wait_until(condition: Callable[[], object], timeout_s: float = 10, what: str = "the condition") -> None:
    """Poll `condition` until it is true; fail the test, saying what was awaited, past `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:g} s waiting for {what}"
        time.sleep(0.01)


def accepted(pid: int, clients: list[socket.socket]) -> bool:
    """Whether a server process tree (gunicorn's master and workers) has taken in every one of these
    client connections: the server's side of each (found in /proc/net/tcp by the two ports) is a
    socket one of its processes holds, not one still waiting in the listen queue, and it has read
    every byte the client sent (its receive queue is empty)."""
    held = set()
    for member in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{member}/fd")
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                held.add(os.readlink(f"/proc/{member}/fd/{fd}"))
            except FileNotFoundError:
                pass
    inodes = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, unread, inode = fields[1], fields[2], int(fields[4].split(":")[1], 16), fields[9]
        inodes[(int(local.split(":")[1], 16), int(remote.split(":")[1], 16))] = inode if unread == 0 else "unread"
    for client in clients:
        server_port, client_port = client.getpeername()[1], client.getsockname()[1]
        if f"socket:[{inodes.get((server_port, client_port), '0')}]" not in held:
            return False
    return True


def read_answers(sock: socket.socket, count: int) -> bytes:
    """Read from a kept-alive connection until `count` whole answers (Content-Length bodies) are in."""
    data = b""
    while True:
        rest, answers = data, 0
        while b"\r\n\r\n" in rest:
            head, _, after = rest.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            if len(after) < length:
                break
            answers, rest = answers + 1, after[length:]
        if answers >= count:
            return data
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {answers} of {count} answers: {data[-300:]!r}"
        data += chunk
