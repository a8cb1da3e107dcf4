"""Requests/s at 32 connections with a load generator that is not the bottleneck (wrk, C), and cold
starts: the function with 1 worker (s.yaml's 1 vCPU) and with a worker per core, beside the peers,
in interleaved rounds, with the cores each server used (its CPU seconds from /proc over the wall's).

run.py's own requests/s row drives the load from Python threads on the same cores, which caps every
server below one core here; this script measures the servers.

    apt-get install wrk   # Debian's package
    python scripts/benchmark/throughput.py --peer portkey --peer litellm [--rounds 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmark.common import GATEWAY_TOKEN  # noqa: E402
from scripts.benchmark.peers import PEERS  # noqa: E402
from scripts.benchmark.servers import cpu_seconds, emulator_process, start_function  # noqa: E402
from scripts.fc_process import free_port, stop  # noqa: E402

CONNECTIONS = 32
BODY = {"model": "qwen-plus", "messages": [{"role": "user", "content": "load"}]}


def wrk_script(directory: Path, name: str, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(BODY))}"]
    lines += [f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}" for key, value in headers.items()]
    path = directory / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def load(url: str, script: Path, seconds: float, pid: int, upstream: int) -> tuple[float, float, int, float]:
    """(requests/s, cores used, non-2xx answers or timeouts, the upstream's cores) of one wrk run against `url`."""
    cpu, cpu_up, started = cpu_seconds(pid), cpu_seconds(upstream), time.perf_counter()
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - started
    cores, cores_up = (cpu_seconds(pid) - cpu) / wall, (cpu_seconds(upstream) - cpu_up) / wall
    failed = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout) (\d+)", out.replace(":", "")))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), cores, failed, cores_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=PEERS, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--cold-starts", type=int, default=5)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("throughput.py needs wrk: apt-get install wrk")
    peers = tuple(dict.fromkeys(options.peer))
    for name in peers:
        PEERS[name].install()
    port = free_port()
    emulator = emulator_process(port)
    base_url, compatible = f"http://127.0.0.1:{port}/api/v1", f"http://127.0.0.1:{port}/compatible-mode/v1"
    cores = len(os.sched_getaffinity(0))
    starters = {"function, 1 worker": lambda: start_function(base_url, {"WEB_CONCURRENCY": "1"}),
                f"function, {cores} workers": lambda: start_function(base_url, {"WEB_CONCURRENCY": str(cores)}),
                **{PEERS[name].label: (lambda name=name: PEERS[name].start(compatible, Path(scratch))) for name in peers}}
    paths = {"function, 1 worker": "/v1/chat/completions", f"function, {cores} workers": "/v1/chat/completions",
             **{PEERS[name].label: PEERS[name].path for name in peers}}
    headers = {"function, 1 worker": {}, f"function, {cores} workers": {},
               **{PEERS[name].label: PEERS[name].headers(compatible) for name in peers}}
    cold: dict[str, list[float]] = {name: [] for name in starters}
    measured: dict[str, list[tuple[float, float, int, float]]] = {name: [] for name in starters}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for _ in range(options.cold_starts):  # spawn to the first 200 (as run.py: its ready path), interleaved
                for name, start in starters.items():
                    spawned = time.monotonic()
                    process, _ = start()
                    cold[name].append(time.monotonic() - spawned)
                    stop(process)
            servers = {name: start() for name, start in starters.items()}
            try:
                for round_number in range(options.rounds):
                    names = list(servers)[round_number % len(servers):] + list(servers)[:round_number % len(servers)]
                    for name in names:
                        process, url = servers[name]
                        script = wrk_script(Path(scratch), "load", {"Content-Type": "application/json",
                                                                    "Authorization": f"Bearer {GATEWAY_TOKEN}", **headers[name]})
                        measured[name].append(load(url + paths[name], script, options.seconds, process.pid, emulator.pid))
            finally:
                for process, _ in servers.values():
                    stop(process)
    finally:
        stop(emulator)
    print(f"| server | requests/s, {CONNECTIONS} connections (min–max of {options.rounds}) | cores used | requests/s per core "
          f"| failed | the emulator's cores | cold start to first 200 (median of {options.cold_starts}) |")
    print("|---|---|---|---|---|---|---|")
    for name, runs in measured.items():
        rps = [run[0] for run in runs]
        used = statistics.median(run[1] for run in runs)
        per_core = statistics.median(run[0] / run[1] for run in runs if run[1])
        print(f"| {name} | {statistics.median(rps):.0f} ({min(rps):.0f}–{max(rps):.0f}) | {used:.2f} | {per_core:.0f} "
              f"| {sum(run[2] for run in runs)} | {statistics.median(run[3] for run in runs):.2f} | {statistics.median(cold[name]):.2f} s |")


if __name__ == "__main__":
    main()
