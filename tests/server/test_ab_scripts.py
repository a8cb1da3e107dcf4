"""Each trick's A/B script (scripts/benchmark/ab_*.py, worker_compare.py) runs in its quick mode and
reports: a table and a RESULT line per baseline. Speed itself is held by the scripts, never asserted here."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.server

SCRIPTS = {"ab_session.py": 1, "ab_retry.py": 2, "ab_logs.py": 2, "worker_compare.py": 2}  # RESULT lines each prints


@pytest.mark.parametrize("script, results", SCRIPTS.items(), ids=SCRIPTS.keys())
def test_the_ab_script_runs_and_reports_a_result(script, results):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark" / script), "--quick"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == results, done.stdout
    assert "| variant | CPU per call | latency per call |" in done.stdout
    assert all(" noise" in line or "slow clients" in line for line in lines), lines
