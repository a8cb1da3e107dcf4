"""scripts/benchmark/caller_cost.py runs end to end (quick mode) and reports its rows. The speed itself
is the benchmark's to report, never asserted here."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_the_caller_cost_benchmark_runs_and_reports():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark" / "caller_cost.py"), "--quick"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for row in ("| owner, no store |", "| owner, with store |", "| caller key |", "caller key over owner's token, p50"):
        assert row in result.stdout
