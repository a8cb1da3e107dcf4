"""Start and stop a server process the way FC does, for the tests and the benchmark.

`start_like_fc` runs s.yaml's customRuntimeConfig.command verbatim; `start_server` runs any
command. Output goes to a file, never to a pipe nobody reads while the server runs: a full pipe
blocks the server's log writes, and with them its requests.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Sequence

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent


def function_props(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "s.yaml").read_text())["resources"]["qwen"]["props"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, path: str = "/health", seconds: float = 30) -> float:
    """Poll until `path` answers 200; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if requests.get(f"{url}{path}", timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:  # not listening yet, or the worker still booting
            time.sleep(0.01)
    raise RuntimeError("the server did not become ready in time")


def start_server(
    command: Sequence[str], env: dict[str, str], port: int, cwd: Path = ROOT, ready_path: str = "/health"
) -> tuple[subprocess.Popen, str]:
    # Binary: what a server prints is read back leniently (the official sample prints from many threads
    # at once through one text stream, which is not thread-safe, and has written invalid UTF-8).
    output = tempfile.TemporaryFile(mode="w+b")
    process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    process.output_file = output  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process, ready_path)
    except RuntimeError:
        raise RuntimeError(f"{command[0]} did not start:\n{stop(process)}") from None
    return process, url


def start_like_fc(env: dict[str, str], cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """Start the function with s.yaml's customRuntimeConfig.command, verbatim, on a free port."""
    port = free_port()
    command = function_props()["customRuntimeConfig"]["command"]
    return start_server(command, {**env, "PORT": str(port), "HOST": "127.0.0.1"}, port, cwd)


def stop(process: subprocess.Popen) -> str:
    """Stop the server as FC does (SIGTERM) and return everything it printed."""
    process.terminate()
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    output = process.output_file  # type: ignore[attr-defined]
    output.seek(0)
    text = output.read().decode("utf-8", errors="replace")
    output.close()
    return text


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (gunicorn's master and workers)."""
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids.extend(process_tree(int(child)))
    return pids


def rss_mb(pid: int) -> float:
    """Resident memory of a process tree, in MB."""
    total_kb = 0
    for member in process_tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024
