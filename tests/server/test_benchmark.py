"""The benchmark script runs end to end (in its quick mode). Speed itself is held by the benchmark,
never asserted here."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
                    "concurrent", "requests/s, 32 connections", "server CPU per small call", "CPU per relayed event", "RSS",
                    "cold start", "FC package, zipped", "package cold start, bare Python", "a thinking stream",
                    "a multimodal call", "a native-door call", "a call with a caller key", "added latency p50, /v1/messages",
                    "first streamed event, added, /v1/messages"):
        assert measure in table
    assert sum(line.startswith("| ") for line in table.splitlines()) == 20  # the header, 15 measures, 4 features
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
