"""The servers the benchmark starts: the emulator (the upstream), the function as s.yaml starts it,
the floor (a do-nothing Flask app under the same gunicorn settings) and the official FC sample."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from scripts.benchmark.common import GATEWAY_TOKEN, HERE, KEY, PYTHON_BIN, ROOT
from scripts.fc_process import free_port, function_props, process_tree, start_like_fc, start_server, stop

Starter = Callable[[str], tuple[subprocess.Popen, str]]


def emulator_process(port: int) -> subprocess.Popen:
    # Strict endpoints, as DashScope: a multimodal model sent to the text endpoint is refused, so the
    # multimodal row measures the multimodal call or says this build does not make it.
    return start_server(
        [sys.executable, str(ROOT / "scripts" / "dashscope_emulator.py"), "--port", str(port), "--chunk-delay", "0",
         "--strict-endpoints"],
        dict(os.environ),
        port,
        ready_path="/_emulator/health",
    )[0]


@contextmanager
def running_emulator() -> Iterator[str]:
    """The emulator on a free port for as long as the block runs; yields its DASHSCOPE_HTTP_BASE_URL."""
    port = free_port()
    emulator = emulator_process(port)
    try:
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        stop(emulator)


def server_env(base_url: str) -> dict[str, str]:
    return {
        "PATH": f"{PYTHON_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DASHSCOPE_API_KEY": KEY,
        "DASHSCOPE_HTTP_BASE_URL": base_url,
        "INVOKE_TOKEN": GATEWAY_TOKEN,
    }


def fc_settings() -> dict[str, str]:
    """s.yaml's environmentVariables that are settings (not the key, nor FC's paths): the function is
    measured as it is deployed."""
    variables = function_props()["environmentVariables"]
    return {name: str(value) for name, value in variables.items()
            if "${" not in str(value) and name not in ("PATH", "PYTHONPATH")}


def start_function(base_url: str, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    return start_like_fc({**fc_settings(), **server_env(base_url), **(extra_env or {})})


def start_floor(base_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = ["python3", "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"), "--chdir", str(HERE), "floor_app:app"]
    return start_server(command, {**server_env(base_url), "PORT": str(port), "HOST": "127.0.0.1"}, port)


def start_official(base_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    return start_server(["python3", str(HERE / "official_sample.py"), str(port)], server_env(base_url), port)


STARTERS: dict[str, Starter] = {"function": start_function, "floor": start_floor, "official": start_official}


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process tree so far (gunicorn's master and worker, uvicorn's, ...),
    from /proc/<pid>/stat: every thread of each process is counted."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks
