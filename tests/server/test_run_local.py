"""scripts/run-local.sh, as a new user runs it: it installs only what the function runs, and refuses
to start on a port something else already holds, saying which and how to choose another."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from typing import Iterator

import pytest

from scripts.fc_process import free_port
from tests.conftest import ROOT

RUN_LOCAL = ROOT / "scripts" / "run-local.sh"


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def run_local(**env: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if name != "DASHSCOPE_API_KEY"} | env
    process = subprocess.Popen([str(RUN_LOCAL)], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        stdout, stderr = process.communicate()
        pytest.fail(f"run-local.sh started instead of refusing:\n{stdout}{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_refuses_to_start_when_the_emulators_port_is_taken(held_port):
    result = run_local(PORT=str(free_port()), EMULATOR_PORT=str(held_port))
    assert result.returncode != 0
    assert f"port {held_port} (the DashScope emulator) is already in use" in result.stderr
    assert "EMULATOR_PORT=<port> scripts/run-local.sh" in result.stderr
    assert "LOCAL EMULATOR" not in result.stdout  # refused before starting anything


def test_refuses_to_start_when_the_functions_port_is_taken(held_port):
    result = run_local(PORT=str(held_port), EMULATOR_PORT=str(free_port()))
    assert result.returncode != 0
    assert f"port {held_port} (the function) is already in use" in result.stderr
    assert "PORT=<port> scripts/run-local.sh" in result.stderr


def test_running_locally_installs_the_runtime_requirements_only():
    """The dev toolchain (pytest, playwright, matplotlib, ...) is the tests' business: scripts/test.sh."""
    bootstrap_calls = [line.split() for line in RUN_LOCAL.read_text().splitlines() if line.startswith("scripts/bootstrap.sh")]
    assert bootstrap_calls == [["scripts/bootstrap.sh", "requirements.txt"]]
    assert '[ "$requirements" != requirements.txt ] || no_deps=(--no-deps)' in (ROOT / "scripts" / "bootstrap.sh").read_text()
    test_sh = (ROOT / "scripts" / "test.sh").read_text()
    assert "scripts/bootstrap.sh requirements-dev.txt" in test_sh
    runtime = {line.split("==")[0].lower() for line in (ROOT / "requirements.txt").read_text().splitlines()
               if line and not line.startswith(("#", "-"))}
    assert not runtime & {"pytest", "playwright", "matplotlib", "schemathesis", "hypothesis", "openai", "pyinstrument"}
