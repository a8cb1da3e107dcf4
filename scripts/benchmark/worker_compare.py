"""The function's own worker (web/server/worker.py) against plain gthread, measured interleaved in one run.

Both instances are the function as s.yaml starts it; the baseline adds ``--worker-class gthread``
(gunicorn's command line overrides gunicorn.conf.py). Rounds alternate between them, so a machine
shared with other work weighs on both alike. Figures: latency of a call and of a stream's first
event (p50/p99, in front of the bundled emulator), and 128 concurrent 1 s calls and streams.

    python scripts/benchmark/worker_compare.py [--rounds 300] [--level 128] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmark.callers import Callers  # noqa: E402
from scripts.benchmark.common import PACED_STREAM, UPSTREAM_S, percentile  # noqa: E402
from scripts.benchmark.servers import emulator_process, server_env  # noqa: E402
from scripts.fc_process import free_port, function_props, start_server, stop  # noqa: E402

TARGETS = {"web.server.worker": [], "gthread": ["--worker-class", "gthread"]}


def start(base_url: str, extra: list[str]):  # noqa: ANN201
    port = free_port()
    command = [*function_props()["customRuntimeConfig"]["command"], *extra]
    return start_server(command, {**server_env(base_url), "PORT": str(port), "HOST": "127.0.0.1"}, port)


def batch(callers: Callers, make, target: str, level: int) -> float:  # noqa: ANN001
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=level) as pool:
        list(pool.map(lambda _: make(target, f"slow [[emulate delay={UPSTREAM_S}]]"), range(level)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--level", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="concurrent batches per target and kind")
    options = parser.parse_args()
    port = free_port()
    emulator = emulator_process(port)
    base_url = f"http://127.0.0.1:{port}/api/v1"
    servers = {}
    try:
        urls = {}
        for name, extra in TARGETS.items():
            servers[name], urls[name] = start(base_url, extra)
        callers = Callers(urls, base_url)
        latency: dict[str, list[float]] = {name: [] for name in TARGETS}
        first: dict[str, list[float]] = {name: [] for name in TARGETS}
        names = list(TARGETS)
        for name in names:
            callers.call(name, "warm up")
        for round_number in range(options.rounds):
            for name in names[round_number % 2:] + names[: round_number % 2]:
                started = time.perf_counter()
                callers.call(name, f"round {round_number}")
                latency[name].append(time.perf_counter() - started)
                first[name].append(callers.first_event(name, f"round {round_number} {PACED_STREAM}"))
        calls: dict[str, list[float]] = {name: [] for name in TARGETS}
        streams: dict[str, list[float]] = {name: [] for name in TARGETS}
        for repeat in range(options.repeats):
            for name in names[repeat % 2:] + names[: repeat % 2]:
                calls[name].append(batch(callers, callers.call, name, options.level))
                streams[name].append(batch(callers, callers.stream, name, options.level))
    finally:
        for process in servers.values():
            stop(process)
        stop(emulator)
    print("| worker | call p50 | call p99 | first event p50 | "
          f"{options.level} × {UPSTREAM_S:g} s calls (median) | {options.level} × {UPSTREAM_S:g} s streams (median) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        print(f"| {name} | {percentile(latency[name], 50) * 1000:.2f} ms | {percentile(latency[name], 99) * 1000:.2f} ms"
              f" | {percentile(first[name], 50) * 1000:.2f} ms | {statistics.median(calls[name]):.2f} s"
              f" | {statistics.median(streams[name]):.2f} s |")
    print(f"\n_{time.strftime('%Y-%m-%d %H:%M')}, {options.rounds} rounds, {options.repeats} batches each, interleaved._")


if __name__ == "__main__":
    main()
