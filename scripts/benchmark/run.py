"""The benchmark: what the function costs in front of DashScope, measured in one run on this machine.

It starts the bundled emulator (the upstream: keep-alive, DashScope's native API and its
OpenAI-compatible mode), the function exactly as s.yaml starts it, the floor (a do-nothing Flask app
under the same gunicorn settings: what one extra hop costs at all), the official FC sample rebuilt as
a baseline (official_sample.py) and, with --peer litellm and/or --peer portkey, the LiteLLM proxy
(peer.py) and the Portkey gateway (portkey.py). It measures them interleaved, round by round, so the
machine's drift falls on all alike, each gateway against a direct call to its own upstream (callers.py):

- added latency p50/p99 of /invoke and /v1, and the time to the first streamed event (measure.py);
- concurrent calls and streams with a 1 s upstream, from 1 to 128 at once;
- server CPU per small call and per relayed event of a 2,000-event stream, read from /proc, also
  for the floor app relaying the SDK and doing nothing else (what a plain gateway calling the SDK
  as documented pays), and requests/s at 32 connections, with the cores the server used meanwhile,
  also for the function with a worker per core of this machine (WEB_CONCURRENCY) (load.py);
- 200 concurrent 20-second streams on one instance of each server, started for the row: the streams
  that finished whole, first event p99 against the SDK's own, peak memory and CPU (many_streams.py);
- a thinking stream, a multimodal call, a native-door call and a call with a caller key (features.py);
- the resident memory of each whole server after the load, and its cold start (spawn to first 200);
- the FC code package (built as s.yaml's pre-deploy builds it): its size zipped, and its cold start on
  a bare Python with nothing but the package's ./python (package.py).

It prints a markdown table with the targets (report.py), writes it to docs/benchmark.md and a plot of
latency against concurrency to docs/benchmark.png, and with --update-readme puts the table in
docs/performance.md and docs/performance_zh.md.

    python scripts/benchmark/run.py --peer litellm --peer portkey --update-readme   # the full run: minutes
    python scripts/benchmark/run.py --quick                          # a smoke run: numbers not meaningful
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmark.callers import Callers  # noqa: E402
from scripts.benchmark.common import ROOT, Results, Settings  # noqa: E402
from scripts.benchmark.features import measure_features  # noqa: E402
from scripts.benchmark.load import measure_cpu_per_call, measure_long_streams, measure_requests_per_second  # noqa: E402
from scripts.benchmark.many_streams import measure_many_streams, row_servers  # noqa: E402
from scripts.benchmark.measure import (  # noqa: E402
    cold_starters,
    measure_cold_starts,
    measure_concurrency,
    measure_latency,
    measure_package,
    plot,
)
from scripts.benchmark.peers import PEERS  # noqa: E402
from scripts.benchmark.report import report, update_readme  # noqa: E402
from scripts.benchmark.servers import STARTERS, emulator_process, start_floor, start_function  # noqa: E402
from scripts.fc_process import free_port, rss_mb, stop  # noqa: E402


def run(settings: Settings, out: Path) -> tuple[str, list[bool]]:
    peers = settings.peers
    for name in peers:
        PEERS[name].install()
    emulator_port = free_port()
    emulator = emulator_process(emulator_port)
    base_url = f"http://127.0.0.1:{emulator_port}/api/v1"
    compatible_url = f"http://127.0.0.1:{emulator_port}/compatible-mode/v1"
    results = Results()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        stack.callback(stop, emulator)
        start_peer = lambda name: PEERS[name].start(compatible_url, Path(scratch))  # noqa: E731
        peer_starters = {name: (lambda name=name: start_peer(name)[0]) for name in peers}
        measure_cold_starts(settings, cold_starters(STARTERS, base_url, peer_starters), results)
        measure_package(settings, base_url, results)
        servers: dict[str, subprocess.Popen] = {}
        urls: dict[str, str] = {}
        for name, start in STARTERS.items():
            servers[name], urls[name] = start(base_url)
            stack.callback(stop, servers[name])
        for name in peers:
            servers[name], urls[name] = start_peer(name)
            stack.callback(stop, servers[name])
        # The floor app again, for its SDK relay (floor_app.py): its own process, so that the floor's
        # memory stays an empty app's.
        servers["relay"], urls["relay"] = start_floor(base_url)
        stack.callback(stop, servers["relay"])
        urls["function-v1"] = urls["function-responses"] = urls["function-anthropic"] = urls["function"]
        callers = Callers(urls, base_url, headers={name: PEERS[name].headers(compatible_url) for name in peers})
        measure_latency(settings, callers, results, peers)
        measure_concurrency(settings, callers, results, peers)
        pids = {name: servers[name].pid for name in ("function", "floor", "official", "relay", *peers)}
        pids["function-v1"] = pids["function"]
        measure_cpu_per_call(settings, callers, pids, results)
        # The function with a worker per core of this machine (s.yaml's one worker is the 1-vCPU case).
        results.wide_workers = len(os.sched_getaffinity(0))
        wide, urls["function-wide"] = start_function(base_url, {"WEB_CONCURRENCY": str(results.wide_workers)})
        try:
            measure_requests_per_second(settings, callers, {"function": pids["function"], "function-v1": pids["function"],
                                                            "function-wide": wide.pid, **{name: pids[name] for name in peers}}, results)
        finally:
            stop(wide)
        measure_long_streams(settings, callers, {k: v for k, v in pids.items() if k not in ("floor", "official")}, results)
        many, results.many_streams_max_in_flight = row_servers(settings, base_url, compatible_url, Path(scratch))
        measure_many_streams(settings, callers, many, results, emulator.pid)
        measure_features(settings, callers, base_url, results, stack)
        results.rss_mb = {name: rss_mb(process.pid) for name, process in servers.items()}
    table, met = report(settings, results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text(table)
    plot(settings, results, out / "benchmark.png")
    return table, met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds, low concurrency")
    parser.add_argument("--peer", choices=PEERS, action="append", default=[],
                        help="also run this gateway, installed under .tools/ (give it twice for both)")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--levels", default="1,8,32,64,128", help="concurrency levels, comma-separated")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--update-readme", action="store_true")
    options = parser.parse_args()
    settings = Settings(rounds=options.rounds, levels=tuple(int(level) for level in options.levels.split(",")), peers=tuple(dict.fromkeys(options.peer)))
    if options.quick:
        settings = Settings.quick_run(settings.peers)
    table, met = run(settings, options.out)
    print(table)
    print(f"plot: {options.out / 'benchmark.png'}")
    if options.update_readme and not settings.quick:
        update_readme(table)
    print(f"targets met: {sum(met)} of {len(met)}")


if __name__ == "__main__":
    main()
