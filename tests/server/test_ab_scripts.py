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


def test_two_trees_are_compared_side_by_side():
    # The same tree twice: the script starts both, measures them interleaved and says, per figure,
    # whether the new one differs beyond the noise (a restructure's "no figure worse").
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark" / "compare_trees.py"),
                           "--old", str(ROOT), "--new", str(ROOT), "--quick", "--paced", "4"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| /", "| stream", "| paced"))]
    assert [row.split(" | ")[0] for row in rows] == [
        "| /invoke server CPU", "| /invoke latency", "| /v1 server CPU", "| /v1 latency", "| stream server CPU",
        "| stream latency", "| paced server CPU", "| paced latency"]
    assert all(" noise |" in row for row in rows), rows
    assert "paced: 4 streams of 0.5 s at once" in done.stdout
