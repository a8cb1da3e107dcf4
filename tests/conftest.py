"""The test suite's one fixture chain, for every tier.

The tiers, cheapest first; a behaviour is tested once, in the cheapest tier that can show it:
- tests/unit: pure functions (parsing, shaping, validation, policy, config, retry decisions), and the
  request path and the doors in-process on an in-process upstream (tests/fake_upstream.py). No
  socket, no fixture beyond pytest's own: the whole tier runs in seconds.
- tests/app: the function in-process, Flask's test client in front, the real dashscope SDK talking
  HTTP to the emulator on a loopback socket (the emulator's own tests live here too).
- tests/server: the function under gunicorn, started with s.yaml's exact command, called over
  sockets (worker, lifecycle, bodies, the openai client, the deploy package run, run-local, ...).
  Marked `server`.
- tests/browser: the try-it page in headless Chromium. Marked `browser` (and `server`).
- tests/deploy: the deploy descriptors and the built package, read as files (s.yaml against the fc3
  schema, .fcignore, publish.yaml): neither pure functions nor a running function.

Fixtures: `emulator` (a DashScope emulator on a real socket, one per session) -> `config` -> `app`
-> `client` is the function in-process. `fc_instance` -> `server` is the function under gunicorn
in front of the same emulator. `logs` reads what the function printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from core.config import Config
from web.tracking import flush_logs
from scripts.dashscope_emulator import Emulator
from scripts.fc_process import process_tree, start_like_fc, stop

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"  # the example console test events, also used by the tests
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


def reached(emulator, marker: str) -> dict:
    """The model call that carried `marker` (its path says which endpoint it reached)."""
    for seen in reversed(emulator.history):
        if marker in json.dumps(seen["body"], ensure_ascii=False):
            return seen
    raise AssertionError(f"no call carrying {marker!r} reached the emulator")


def sent_to_dashscope(emulator, marker: str) -> dict:
    """The body of the model call that carried `marker`."""
    return reached(emulator, marker)["body"]


class Logs:
    """What the function wrote to stdout, flushed first."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self._capfd = capfd

    def text(self) -> str:
        flush_logs()
        captured = self._capfd.readouterr()
        return captured.out + captured.err

    def clear(self) -> None:
        self.text()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.text().splitlines() if line.startswith("{")]

    def requests(self) -> list[dict]:
        """The one-per-request lines."""
        return [line for line in self.lines() if line["message"] == "request"]


# The app's log lines go to stdout, which can hold them in its buffer past the end of a test phase,
# when pytest has stopped capturing and prints its progress. Each phase (setup, call, teardown)
# flushes them before pytest stops capturing it: the lines stay with their test (a failing test
# shows them), never in the middle of pytest's output.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        flush_logs()


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        flush_logs()


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        flush_logs()


TIER_MARKS = {"server": ("server",), "browser": ("server", "browser")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/server is marked `server`, every one in tests/browser `browser` too, so
    that `-m "not server"` leaves out exactly the tiers that start gunicorn."""
    for item in items:
        tier = item.path.relative_to(ROOT / "tests").parts[0]
        for mark in TIER_MARKS.get(tier, ()):
            item.add_marker(mark)


@pytest.fixture
def logs(capfd: pytest.CaptureFixture[str]) -> Logs:
    logs = Logs(capfd)
    logs.clear()
    return logs


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    # strict_endpoints: a multimodal model on the text endpoint gets DashScope's 400 "url error".
    emulator = Emulator(strict_endpoints=True).start()
    yield emulator
    emulator.stop()


class ClosingClient(FlaskClient):
    """Flask's test client, reading and closing each response as a real server does (the function
    writes a request's log line when its response is closed). `buffered=False` still streams."""

    def open(self, *args, buffered: bool = True, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def closing_test_client() -> Iterator[None]:
    original = Flask.test_client_class
    Flask.test_client_class = ClosingClient
    yield
    Flask.test_client_class = original


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
        return process_tree(self.process.pid)[1:]


@pytest.fixture(scope="session")
def fc_instance(emulator: Emulator) -> Iterator[RunningFunction]:
    """The function under gunicorn, as FC starts it, in front of the emulator."""
    process, url = start_like_fc(function_env(emulator))
    yield RunningFunction(process, url)
    stop(process)


@pytest.fixture(scope="session")
def server(fc_instance: RunningFunction) -> str:
    return fc_instance.url
