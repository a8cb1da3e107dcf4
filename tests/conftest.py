"""Fixtures: a DashScope emulator on a real socket, and the function in front of it.

`app` -> `client` is the function in-process (Flask's test client, the real SDK talking HTTP to
the emulator). `server` is the function under gunicorn, started with the exact command in s.yaml.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests
import yaml

from app import create_app
from core.config import Config
from scripts.dashscope_emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
# Fake, and shaped so that nothing mistakes it for a real key.
FAKE_KEY = "sk-emulator-fake-key-0000"


def event_bytes(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def event_json(name: str) -> dict:
    return json.loads(event_bytes(name))


def sse_events(text: str) -> list[tuple[str, dict]]:
    """Parse an SSE body into (event, data) pairs."""
    parsed = []
    for block in text.strip().split("\n\n"):
        event, data = "message", None
        for line in block.splitlines():
            if line.startswith("event:"):
                event = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data = json.loads(line[len("data:"):])
        if data is not None:
            parsed.append((event, data))
    return parsed


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emulator = Emulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def config(emulator: Emulator) -> Config:
    # Retries stay on, as in production, with a backoff short enough for a test suite.
    return Config(
        dashscope_api_key=FAKE_KEY,
        dashscope_base_url=emulator.base_url,
        upstream_timeout_s=10,
        upstream_retry_backoff_s=0.01,
    )


@pytest.fixture
def app(config: Config):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


def s_yaml() -> dict:
    return yaml.safe_load((ROOT / "s.yaml").read_text())


def function_props() -> dict:
    return s_yaml()["resources"]["qwen"]["props"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the worker still booting
            time.sleep(0.1)
    raise RuntimeError("the server did not become healthy in time")


def start_like_fc(env: dict[str, str], cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """Start the function with s.yaml's customRuntimeConfig.command, verbatim, on a free port.

    Its output goes to a file, never to a pipe nobody reads while it runs: a full pipe blocks the
    worker's log writes, and with them the whole gevent worker.
    """
    command = function_props()["customRuntimeConfig"]["command"]
    port = free_port()
    output = tempfile.TemporaryFile(mode="w+t")
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.output_file = output  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
    except RuntimeError:
        raise RuntimeError(f"the function did not start:\n{stop(process)}") from None
    return process, url


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
    text = output.read()
    output.close()
    return text


def function_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    """The environment to start the function with locally, as FC would, in front of the emulator."""
    return {
        # `python3` in s.yaml's command must be this environment's interpreter, as on FC it is the
        # runtime's, with the requirements importable.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DASHSCOPE_API_KEY": FAKE_KEY,
        "DASHSCOPE_HTTP_BASE_URL": emulator.base_url,
        "UPSTREAM_TIMEOUT_S": "30",
        "UPSTREAM_RETRY_BACKOFF_S": "0.01",
        **extra,
    }


@dataclass
class RunningFunction:
    process: subprocess.Popen
    url: str

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]


@pytest.fixture(scope="session")
def fc_instance(emulator: Emulator) -> Iterator[RunningFunction]:
    """The function under gunicorn, as FC starts it, in front of the emulator."""
    process, url = start_like_fc(function_env(emulator))
    yield RunningFunction(process, url)
    stop(process)


@pytest.fixture(scope="session")
def server(fc_instance: RunningFunction) -> str:
    return fc_instance.url
