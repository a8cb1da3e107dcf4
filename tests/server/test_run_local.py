"""scripts/run-local.sh, as a new user runs it: it installs only what the function runs (saying so
the first time), and refuses to start on ports something else already holds, naming every one of
them at once and how to choose others."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from typing import Iterator

import pytest

from scripts.fc_process import free_port
from tests.conftest import ROOT
from tests.tools import tool

RUN_LOCAL = ROOT / "scripts" / "run-local.sh"


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def held_ports() -> Iterator[list[int]]:
    """Three ports something else is listening on."""
    holders = [socket.socket() for _ in range(3)]
    try:
        for holder in holders:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
        yield [holder.getsockname()[1] for holder in holders]
    finally:
        for holder in holders:
            holder.close()


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


def test_one_refusal_names_every_taken_port(held_ports):
    tool("redis-server")  # LOCAL_REDIS_PORT is only wanted when there is a redis-server to start
    port, emulator_port, redis_port = held_ports
    result = run_local(PORT=str(port), EMULATOR_PORT=str(emulator_port), LOCAL_REDIS_PORT=str(redis_port))
    assert result.returncode == 1
    assert f"port {port} (the function) is already in use" in result.stderr
    assert f"port {emulator_port} (the DashScope emulator) is already in use" in result.stderr
    assert f"port {redis_port} (the local redis-server for callers) is already in use" in result.stderr
    assert "choose other ports: PORT=<port> EMULATOR_PORT=<port> LOCAL_REDIS_PORT=<port> scripts/run-local.sh" in result.stderr
    assert "LOCAL EMULATOR" not in result.stdout and "installing" not in result.stdout


def test_the_same_port_twice_is_refused_by_name():
    port = free_port()
    result = run_local(PORT=str(port), EMULATOR_PORT=str(port), LOCAL_REDIS_PORT=str(free_port()))
    assert result.returncode == 1
    assert f"EMULATOR_PORT and PORT are both {port}: give them different ports" in result.stderr


FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for .venv/bin/python: hashes with the real one, records what pip would have installed.
if [ "$1" = -m ] && [ "$2" = pip ]; then echo "pip $*" >> "$(dirname "$0")/pip-calls"; exit 0; fi
exec {python} "$@"
"""


def test_the_first_run_says_it_is_installing_and_later_runs_skip_pip(tmp_path):
    """bootstrap.sh, in a copy of the project with a stand-in .venv: the real one is not touched."""
    (tmp_path / "scripts").mkdir()
    for name in ("scripts/bootstrap.sh", "requirements.txt"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    (tmp_path / "scripts" / "bootstrap.sh").chmod(0o755)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON.format(python=sys.executable))
    python.chmod(0o755)

    def bootstrap() -> str:
        return subprocess.run([str(tmp_path / "scripts" / "bootstrap.sh"), "requirements.txt"], capture_output=True,
                              text=True, timeout=60, check=True).stdout

    assert "installing the function's packages into .venv" in bootstrap()
    assert "--no-deps -r requirements.txt" in (python.parent / "pip-calls").read_text()
    assert bootstrap() == ""  # installed: no pip, no word
    assert len((python.parent / "pip-calls").read_text().splitlines()) == 1
    (tmp_path / "requirements.txt").write_text((ROOT / "requirements.txt").read_text() + "\nsix==1.17.0\n")
    assert "installing the function's packages" in bootstrap()  # a changed requirements file installs again
