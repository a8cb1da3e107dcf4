"""The benchmark's table: a column for each peer that ran (LiteLLM, Portkey, or both, in the order
given), rows without a target are reported and not counted, requests/s per CPU core for every
server, and a feature this build lacks is a row that says why. (The suite's quick run,
tests/server/test_benchmark.py, runs without the peers: installing them takes the registry.)"""

from __future__ import annotations

from scripts.benchmark.common import ManyStreams, Results, Settings
from scripts.benchmark.report import report

TARGETS = ["direct", "function", "function-v1", "floor", "official", "function-responses", "function-anthropic",
           "direct-compat/litellm", "litellm", "direct-compat/portkey", "portkey"]
PEERS = ("litellm", "portkey")


def results(peers: tuple[str, ...]) -> Results:
    made = Results()
    for number, target in enumerate(TARGETS):
        made.latency[target] = [0.001 * (1 + number / 10)] * 20
        made.first_event[target] = [0.002 * (1 + number / 10)] * 20
    made.latency["litellm"] = [0.0095] * 20  # 8 ms over its own direct call (1.5 ms)
    made.latency["direct-compat/litellm"] = [0.0015] * 20
    made.latency["portkey"] = [0.0055] * 20  # 3 ms over its own direct call (2.5 ms)
    made.latency["direct-compat/portkey"] = [0.0025] * 20
    for name in ("direct", "function", "official", "direct-compat", *PEERS):
        made.batch_s[(name, 4)] = made.call_s[(name, 4)] = 1.01
    for name in ("direct", "function", "function-v1", "relay", "direct-compat", *PEERS):
        made.batch_s[(f"{name}-stream", 4)] = 1.02
    made.rps = {"function": 500.0, "function-v1": 480.0, "function-wide": 900.0, "litellm": 100.0, "portkey": 600.0}
    made.rps_cores = {"function": 1.0, "function-v1": 0.96, "function-wide": 1.8, "litellm": 1.0, "portkey": 2.0}
    made.wide_workers = 2
    made.cpu_ms = {"function": 1.5, "function-v1": 1.6, "floor": 0.4, "official": 1.4, "direct": 0.7, "relay": 0.9,
                   "litellm": 9.0, "portkey": 3.5}
    made.chunk_cpu_us = {"function": 50.0, "function-v1": 48.0, "direct": 32.0, "direct-compat": 70.0, "relay": 40.0,
                         "litellm": 20.0, "portkey": 30.0}
    made.rss_mb = {"function": 100.0, "floor": 60.0, "relay": 90.0, "official": 80.0, "litellm": 380.0, "portkey": 140.0}
    made.cold_start_s = {"function": [0.4], "floor": [0.1], "official": [0.4], "litellm": [6.0], "portkey": [0.37]}
    made.features = {"a native-door call": "not measured: 404", "a thinking stream": [0.0012, 0.0013, 0.0014]}
    for gone in set(PEERS) - set(peers):
        for table in (made.latency, made.first_event):
            del table[gone], table[f"direct-compat/{gone}"]
    return made


def rows_of(table: str) -> dict[str, str]:
    return {line.split(" | ")[0]: line for line in table.splitlines() if line.startswith("| ")}


def test_each_peer_that_ran_has_its_column():
    both, _ = report(Settings(rounds=20, levels=(4,), peers=PEERS), results(PEERS))
    portkey, _ = report(Settings(rounds=20, levels=(4,), peers=("portkey",)), results(("portkey",)))
    without, _ = report(Settings(rounds=20, levels=(4,)), results(()))
    assert both.splitlines()[0] == "| measure | the function | LiteLLM proxy | Portkey gateway | compared with | target | met |"
    assert portkey.splitlines()[0] == "| measure | the function | Portkey gateway | compared with | target | met |"
    assert without.splitlines()[0] == "| measure | the function | compared with | target | met |"
    rows = rows_of(both)
    assert "| 380 MB | 140 MB |" in rows["| RSS after the load"]
    assert "| 9.00 ms | 3.50 ms |" in rows["| server CPU per small call"]
    assert "| 6.00 s | 0.37 s |" in rows["| cold start to first 200"]
    assert rows["| added latency p50, /invoke"].startswith("| added latency p50, /invoke | 0.10 ms | 8.00 ms | 3.00 ms |")
    assert rows["| added latency p50, /v1"].startswith("| added latency p50, /v1 | 0.20 ms |  |  |")
    assert "LiteLLM proxy 1.108.0" in both and "Portkey gateway 1.15.2" in both
    assert all(line.count("|") == 8 for line in rows.values())  # every row has both peers' cells
    assert all(line.count("|") == 7 for line in rows_of(portkey).values())


def test_requests_per_core_and_the_function_on_every_core():
    table, _ = report(Settings(rounds=20, levels=(4,), peers=PEERS), results(PEERS))
    rows = rows_of(table)
    # requests/s divided by the cores each server used (CPU seconds over wall seconds)
    assert rows["| requests/s per CPU core, 32 connections, /v1"].startswith(
        "| requests/s per CPU core, 32 connections, /v1 | 500 | 100 | 300 |")
    assert "2 workers 1.80 (500 per core)" in rows["| requests/s per CPU core, 32 connections, /v1"]
    # 900 is 1.5× Portkey's 600 and 9× LiteLLM's 100: met
    assert rows["| requests/s, 32 connections, /v1, 2 workers"].startswith("| requests/s, 32 connections, /v1, 2 workers | 900 | 100 | 600 |")
    assert rows["| requests/s, 32 connections, /v1, 2 workers"].endswith("| yes |")
    slower = results(PEERS)
    slower.rps["function-wide"] = 899.0
    assert rows_of(report(Settings(rounds=20, levels=(4,), peers=PEERS), slower)[0])[
        "| requests/s, 32 connections, /v1, 2 workers"].endswith("| **no** |")


def test_rows_without_a_target_are_not_counted_and_missing_features_say_why():
    table, met = report(Settings(rounds=20, levels=(4,)), results(()))
    counted = sum(1 for line in table.splitlines() if line.endswith("| yes |") or line.endswith("| **no** |"))
    assert len(met) == counted == 16  # 12, plus two rows each for /v1/responses and /v1/messages
    assert "| added latency p50, a native-door call | not measured: 404 |" in table
    assert "| added latency p50, a thinking stream | 1.30 ms |" in table
    _, with_peers = report(Settings(rounds=20, levels=(4,), peers=PEERS), results(PEERS))
    assert len(with_peers) == 17  # and the function on every core against the peers


def many_streams(made: Results, peers: tuple[str, ...]) -> Results:
    """The many-streams row's figures: 4 streams of 1 s, the function's first event p99 0.3 s against
    the SDK's 0.3 s, 120 MB and 2 s of CPU; the peers more."""
    made.many_streams["direct"] = ManyStreams(4, [0.1, 0.2, 0.3, 0.3], 1.2)
    made.many_streams["function"] = ManyStreams(4, [0.1, 0.2, 0.3, 0.3], 1.3, rss_peak_mb=120.0, cpu_s=2.0)
    for peer in peers:
        made.many_streams[peer] = ManyStreams(3, [0.2, 0.4, 0.5], 1.5, rss_peak_mb=140.0, cpu_s=3.0)
    made.many_streams_max_in_flight = 200
    return made


def test_the_many_streams_row_counts_whole_streams_and_holds_cpu_to_portkey_only_when_it_ran():
    settings = Settings(rounds=20, levels=(4,), peers=PEERS, many_streams=4, many_stream_s=1.0)
    table, met = report(settings, many_streams(results(PEERS), PEERS))
    rows = rows_of(table)
    assert rows["| 4 concurrent 1 s streams: finished whole"].startswith(
        "| 4 concurrent 1 s streams: finished whole | 4 of 4, the last done at 1.3 s | 3 of 4, the last done at 1.5 s |")
    assert "MAX_IN_FLIGHT=200" in rows["| 4 concurrent 1 s streams: finished whole"]
    assert rows["| 4 concurrent 1 s streams: first event p99"].endswith("| ≤ 1.2× direct (0.36) | yes |")
    assert rows["| 4 concurrent 1 s streams: server RSS peak"].startswith("| 4 concurrent 1 s streams: server RSS peak | 120 MB | 140 MB | 140 MB |")
    # 11 events a stream (an event every 100 ms), 44 in all: 2 s of CPU is 45455 µs an event
    assert "the function 45455 µs" in rows["| 4 concurrent 1 s streams: server CPU"]
    assert rows["| 4 concurrent 1 s streams: server CPU"].endswith("| ≤ Portkey's | yes |")
    assert len(met) == 17 + 4
    lost = many_streams(results(()), ())
    lost.many_streams["function"].finished = 3
    table, met = report(Settings(rounds=20, levels=(4,), many_streams=4, many_stream_s=1.0), lost)
    assert rows_of(table)["| 4 concurrent 1 s streams: finished whole"].endswith("| every stream | **no** |")
    assert rows_of(table)["| 4 concurrent 1 s streams: server CPU"].endswith("|  | — |")  # no Portkey: not counted
    assert len(met) == 16 + 3
