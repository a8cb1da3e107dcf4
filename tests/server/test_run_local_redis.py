"""scripts/run-local.sh with redis-server installed: it starts a local Redis for callers, points
REDIS_URL at it, and stops it when the run stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import requests

from scripts.fc_process import free_port
from tests.conftest import ROOT
from tests.tools import tool


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_run_local_starts_a_local_redis_for_callers_and_stops_it_on_exit(tmp_path):
    tool("redis-server")
    port, redis_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items()
           if name not in {"DASHSCOPE_API_KEY", "REDIS_URL", "CALLERS", "INVOKE_TOKEN"}}
    env |= {"PORT": str(port), "EMULATOR_PORT": str(free_port()), "LOCAL_REDIS_PORT": str(redis_port)}
    output = (tmp_path / "out").open("w+")
    process = subprocess.Popen([str(ROOT / "scripts" / "run-local.sh")], cwd=ROOT, env=env, stdout=output,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = requests.get(f"{url}/health", timeout=2).json()
                break
            except requests.RequestException:
                time.sleep(0.1)
        assert health is not None, (tmp_path / "out").read_text()
        assert health["caller_store"] == {"kind": "redis", "status": "up"}
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        added = subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), "add", "local-app", "--rpm", "1"],
                               env={"REDIS_URL": redis_url, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                               timeout=30, check=True)
        key = added.stdout.split()[-1]
        calls = [requests.post(f"{url}/invoke", json={"prompt": "hi"}, headers={"Authorization": f"Bearer {key}"},
                               timeout=30).status_code for _ in range(2)]
        assert calls == [200, 429]
        assert f"REDIS_URL={redis_url}" in (tmp_path / "out").read_text()
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, as a user stops it
        process.wait(timeout=30)
    deadline = time.monotonic() + 5
    while listening(redis_port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not listening(redis_port)
