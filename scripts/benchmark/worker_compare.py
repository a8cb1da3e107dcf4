"""The function's own worker (web/server/worker.py) against plain gthread, measured interleaved in one run.

Both instances are the function as s.yaml starts it; the baseline adds ``--worker-class gthread``
(gunicorn's command line overrides gunicorn.conf.py). Rounds alternate between them, so a machine
shared with other work weighs on both alike. Figures: the server's CPU per call (its processes'
utime + stime from /proc) and the latency of a call, per round; a stream's first event (p50); 128
concurrent 1 s calls and streams; and what the worker is for: a normal call while 300 clients hold
half-sent requests open (more than gunicorn's 256 threads).

    python scripts/benchmark/worker_compare.py [--rounds 20] [--calls 100] [--level 128] [--repeats 3]
    python scripts/benchmark/worker_compare.py --quick    # seconds, figures meaningless
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import requests  # noqa: E402

from scripts.benchmark.ab import Sample, report  # noqa: E402
from scripts.benchmark.callers import ROUTES, Callers  # noqa: E402
from scripts.benchmark.common import PACED_STREAM, UPSTREAM_S, percentile  # noqa: E402
from scripts.benchmark.servers import cpu_seconds, emulator_process, server_env  # noqa: E402
from scripts.fc_process import free_port, function_props, start_server, stop  # noqa: E402

TARGETS = {"web.server.worker": [], "gthread": ["--worker-class", "gthread"]}
ROUTES.update({name: ROUTES["function"] for name in TARGETS})  # both are the function, called on /invoke
SLOW_CLIENTS = 300
SLOW_WAIT_S = 5.0


def start(base_url: str, extra: list[str]):  # noqa: ANN201
    port = free_port()
    command = [*function_props()["customRuntimeConfig"]["command"], *extra]
    return start_server(command, {**server_env(base_url), "PORT": str(port), "HOST": "127.0.0.1"}, port)


def batch(callers: Callers, make, target: str, level: int) -> float:  # noqa: ANN001
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=level) as pool:
        list(pool.map(lambda _: make(target, f"slow [[emulate delay={UPSTREAM_S}]]"), range(level)))
    return time.perf_counter() - started


def call_beside_slow_clients(url: str) -> float:
    """Seconds a normal call takes while SLOW_CLIENTS hold half-sent requests open (SLOW_WAIT_S: not served)."""
    host, port = url.removeprefix("http://").split(":")
    slow = [socket.create_connection((host, int(port)), timeout=10) for _ in range(SLOW_CLIENTS)]
    try:
        for sock in slow:
            sock.sendall(b"POST /invoke HTTP/1.1\r\nHost: fc\r\nContent-Le")
        started = time.perf_counter()
        try:
            requests.get(f"{url}/health", timeout=SLOW_WAIT_S)
        except requests.RequestException:
            return SLOW_WAIT_S
        return time.perf_counter() - started
    finally:
        for sock in slow:
            sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=100, help="calls per target per round")
    parser.add_argument("--level", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="concurrent batches per target and kind")
    parser.add_argument("--quick", action="store_true", help="a few calls only: checks the script runs")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.calls, options.level, options.repeats = 2, 5, 4, 1
    port = free_port()
    emulator = emulator_process(port)
    base_url = f"http://127.0.0.1:{port}/api/v1"
    servers = {}
    try:
        urls = {}
        for name, extra in TARGETS.items():
            servers[name], urls[name] = start(base_url, extra)
        callers = Callers(urls, base_url)
        samples = {name: Sample() for name in TARGETS}
        first: dict[str, list[float]] = {name: [] for name in TARGETS}
        names = list(TARGETS)
        for name in names:
            callers.call(name, "warm up")
        for round_number in range(options.rounds):
            for name in names[round_number % 2:] + names[: round_number % 2]:
                cpu, started = cpu_seconds(servers[name].pid), time.perf_counter()
                for call in range(options.calls):
                    callers.call(name, f"round {round_number} call {call}")
                samples[name].latency_us.append((time.perf_counter() - started) / options.calls * 1e6)
                samples[name].cpu_us.append((cpu_seconds(servers[name].pid) - cpu) / options.calls * 1e6)
                first[name].append(callers.first_event(name, f"round {round_number} {PACED_STREAM}"))
        calls: dict[str, list[float]] = {name: [] for name in TARGETS}
        streams: dict[str, list[float]] = {name: [] for name in TARGETS}
        for repeat in range(options.repeats):
            for name in names[repeat % 2:] + names[: repeat % 2]:
                calls[name].append(batch(callers, callers.call, name, options.level))
                streams[name].append(batch(callers, callers.stream, name, options.level))
        beside_slow = {name: call_beside_slow_clients(urls[name]) for name in names}
    finally:
        for process in servers.values():
            stop(process)
        stop(emulator)
    print(f"| worker | first event p50 | {options.level} × {UPSTREAM_S:g} s calls (median) | "
          f"{options.level} × {UPSTREAM_S:g} s streams (median) | a call beside {SLOW_CLIENTS} slow clients |")
    print("|---|---|---|---|---|")
    for name in names:
        slow = f"{beside_slow[name]:.2f} s" if beside_slow[name] < SLOW_WAIT_S else f"not served in {SLOW_WAIT_S:g} s"
        print(f"| {name} | {percentile(first[name], 50) * 1000:.2f} ms | {statistics.median(calls[name]):.2f} s"
              f" | {statistics.median(streams[name]):.2f} s | {slow} |")
    report("custom worker (server CPU from /proc)", samples, options.rounds, options.calls)
    print(f"RESULT custom worker: a call beside {SLOW_CLIENTS} slow clients: "
          + ", ".join(f"{name} {beside_slow[name]:.2f} s" for name in names)
          + f" ({SLOW_WAIT_S:g} s: not served)")
    print(f"\n_{time.strftime('%Y-%m-%d %H:%M')}, {options.rounds} rounds, {options.repeats} batches each, interleaved._")


if __name__ == "__main__":
    main()
