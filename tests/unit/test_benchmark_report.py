"""The benchmark's table: the peer's column appears only when a peer ran, rows without a target are
reported and not counted, and a feature this build lacks is a row that says why. (The suite's quick
run, tests/test_benchmark.py, runs without the peer: installing LiteLLM takes minutes and the registry.)"""

from __future__ import annotations

from scripts.benchmark.common import Results, Settings
from scripts.benchmark.report import report

TARGETS = ["direct", "function", "function-v1", "floor", "official", "direct-compat", "litellm", "function-responses", "function-anthropic"]


def results(peer: bool) -> Results:
    made = Results()
    for number, target in enumerate(TARGETS):
        made.latency[target] = [0.001 * (1 + number / 10)] * 20
        made.first_event[target] = [0.002 * (1 + number / 10)] * 20
    made.latency["litellm"] = [0.0095] * 20  # 8 ms over its own direct call (1.5 ms)
    for name in ("direct", "function", "official", "direct-compat", "litellm"):
        made.batch_s[(name, 4)] = made.call_s[(name, 4)] = 1.01
    for name in ("direct", "function", "function-v1", "relay", "direct-compat", "litellm"):
        made.batch_s[(f"{name}-stream", 4)] = 1.02
    made.rps = {"function": 500.0, "function-v1": 480.0, "litellm": 100.0}
    made.cpu_ms = {"function": 1.5, "function-v1": 1.6, "floor": 0.4, "official": 1.4, "direct": 0.7, "relay": 0.9,
                   "litellm": 9.0}
    made.chunk_cpu_us = {"function": 50.0, "function-v1": 48.0, "direct": 32.0, "direct-compat": 70.0, "relay": 40.0,
                         "litellm": 20.0}
    made.rss_mb = {"function": 100.0, "floor": 60.0, "relay": 90.0, "official": 80.0, "litellm": 380.0}
    made.cold_start_s = {"function": [0.4], "floor": [0.1], "official": [0.4], "litellm": [6.0]}
    made.features = {"a native-door call": "not measured: 404", "a thinking stream": [0.0012, 0.0013, 0.0014]}
    if not peer:
        for table in (made.latency, made.first_event):
            for name in ("direct-compat", "litellm"):
                del table[name]
    return made


def test_the_peer_column_appears_only_when_the_peer_ran():
    with_peer, _ = report(Settings(rounds=20, levels=(4,), peer="litellm"), results(peer=True))
    without, _ = report(Settings(rounds=20, levels=(4,)), results(peer=False))
    assert with_peer.splitlines()[0] == "| measure | the function | LiteLLM proxy | compared with | target | met |"
    assert without.splitlines()[0] == "| measure | the function | compared with | target | met |"
    rows = {line.split(" | ")[0]: line for line in with_peer.splitlines() if line.startswith("| ")}
    assert "| 380 MB |" in rows["| RSS after the load"]
    assert "| 9.00 ms |" in rows["| server CPU per small call"]
    assert rows["| added latency p50, /invoke"].startswith("| added latency p50, /invoke | 0.10 ms | 8.00 ms |")
    assert "LiteLLM proxy 1.108.0" in with_peer


def test_rows_without_a_target_are_not_counted_and_missing_features_say_why():
    table, met = report(Settings(rounds=20, levels=(4,)), results(peer=False))
    counted = sum(1 for line in table.splitlines() if line.endswith("| yes |") or line.endswith("| **no** |"))
    assert len(met) == counted == 16  # 12, plus two rows each for /v1/responses and /v1/messages
    assert "| added latency p50, a native-door call | not measured: 404 |" in table
    assert "| added latency p50, a thinking stream | 1.30 ms |" in table
