"""The benchmark script runs end to end (in its quick mode), and its Portkey peer relays a call to the
emulator from loopback only. Speed itself is held by the benchmark, never asserted here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from scripts.benchmark import portkey
from scripts.fc_process import stop
from tests.conftest import ROOT

pytestmark = pytest.mark.server


def test_the_benchmark_runs_and_reports(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = (tmp_path / "benchmark.md").read_text()
    for measure in ("added latency p50, /invoke", "added latency p50, /v1", "added latency p50, /v1/responses",
                    "first streamed event, added, /v1/responses", "added latency p99", "first streamed event",
                    "concurrent", "requests/s, 32 connections", "requests/s per CPU core", "server CPU per small call", "CPU per relayed event", "RSS",
                    "cold start", "FC package, zipped", "package cold start, bare Python", "a thinking stream",
                    "a multimodal call", "a native-door call", "a call with a caller key", "added latency p50, /v1/messages",
                    "first streamed event, added, /v1/messages"):
        assert measure in table
    # the header, 19 measures (requests/s with a worker per core, and per CPU core, among them), the 4 of
    # the many-streams row, 4 features
    assert sum(line.startswith("| ") for line in table.splitlines()) == 28
    assert "10 concurrent 1 s streams: finished whole" in table
    assert "requests/s, 32 connections, /v1, " in table
    assert (tmp_path / "benchmark.png").stat().st_size > 10_000
    assert "targets met:" in result.stdout


def test_the_own_cost_script_runs_and_reports():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark" / "own_cost.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for row in ("a call (POST /invoke)", "a stream, to its first event", "a call (POST /v1/chat/completions)", "GET /health", "requests' default session", "the function's session"):
        assert f"| {row}" in result.stdout


def test_the_relay_cost_script_takes_an_event_apart():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark" / "relay_cost.py"), "--quick"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split("|")[1].strip(): float(line.split("|")[2]) for line in result.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| CPU")}
    assert len(rows) == 11, rows
    assert all(value > 0 for value in rows.values()), rows
    for door in ("/invoke", "/v1/chat/completions", "/v1/responses", "/v1/messages"):
        assert f"the function's own work, {door}" in rows


def listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp* writes them) with a socket listening on `port`."""
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, _, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_portkey_peer_relays_a_call_to_the_emulator_from_loopback_only(emulator):
    """The peer is a benchmark tool, not a dependency: when npm cannot install it (no node/npm, no
    registry), this skips, in CI too (CI=true): the product does not depend on it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("the Portkey peer needs node and npm, and this machine lacks them")
    try:
        portkey.install(timeout_s=120)
    except (subprocess.SubprocessError, OSError) as error:
        pytest.skip(f"npm could not install @portkey-ai/gateway@{portkey.VERSION}: {error}")
    process, url = portkey.start_portkey()
    try:
        compatible = emulator.base_url.removesuffix("/api/v1") + "/compatible-mode/v1"
        body = {"model": "qwen-plus", "messages": [{"role": "user", "content": "hello portkey"}]}
        request = urllib.request.Request(f"{url}/v1/chat/completions", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **portkey.headers(compatible)})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert answer["choices"][0]["message"]["content"].endswith("You said: hello portkey")
        assert answer["provider"] == "dashscope"
        assert listening_addresses(int(url.rsplit(":", 1)[1])) == {"0100007F"}  # 127.0.0.1, nothing else
    finally:
        stop(process)
