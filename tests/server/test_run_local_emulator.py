"""scripts/run-local.sh as the README runs it: on 127.0.0.1 only, and the README's `sk-invalid`
recipe (a key, and DASHSCOPE_HTTP_BASE_URL at the emulator's port) starts the emulator and shows a
refused key (503 ApiKeyRefused), not a 502 for an emulator that never started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from scripts.fc_process import free_port
from tests.conftest import ROOT


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses something listens on at `port` (from /proc/net/tcp; state 0A is LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, local_port = fields[1].split(":")
        if fields[3] == "0A" and int(local_port, 16) == port:
            found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_the_readmes_sk_invalid_recipe_runs_on_loopback_and_shows_a_refused_key(tmp_path):
    port, emulator_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items()
           if name not in {"DASHSCOPE_API_KEY", "DASHSCOPE_HTTP_BASE_URL", "HOST", "REDIS_URL", "CALLERS", "INVOKE_TOKEN"}}
    env |= {"PORT": str(port), "EMULATOR_PORT": str(emulator_port), "LOCAL_REDIS_PORT": str(free_port()),
            "DASHSCOPE_API_KEY": "sk-invalid",
            "DASHSCOPE_HTTP_BASE_URL": f"http://127.0.0.1:{emulator_port}/api/v1"}
    output = (tmp_path / "out").open("w+")
    process = subprocess.Popen([str(ROOT / "scripts" / "run-local.sh")], cwd=ROOT, env=env, stdout=output,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.post(f"{url}/invoke", json={"prompt": "hi"}, timeout=5)
                if answer.status_code != 502:  # the emulator may still be starting
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        log = (tmp_path / "out").read_text()
        assert answer is not None, log
        assert answer.status_code == 503 and answer.json()["code"] == "ApiKeyRefused", (answer.text, log)
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
