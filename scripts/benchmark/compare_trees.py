"""Two checkouts of the function side by side in one run: is any figure of the new one worse beyond
the noise? For a change that should not change speed (a restructure) or one that claims a gain.

Both trees are started as s.yaml starts them (each tree's own s.yaml and settings), in front of one
emulator, and measured in interleaved rounds (the order rotates from round to round, so a busy moment
of the machine weighs on both): per round and tree, small calls on /invoke and on /v1 (latency per
call, and the server's CPU per call from /proc, every process and thread of it), and one long stream
(the server's CPU per relayed event). The verdict per figure pairs the two trees' rounds (ab.py).

    git worktree add /tmp/old <commit>
    python scripts/benchmark/compare_trees.py --old /tmp/old --new .      # about a minute
    python scripts/benchmark/compare_trees.py --old /tmp/old --new . --quick
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmark.ab import Sample, _spread, verdict  # noqa: E402
from scripts.benchmark.common import GATEWAY_TOKEN, LONG_STREAM, LONG_STREAM_EVENTS  # noqa: E402
from scripts.benchmark.servers import cpu_seconds, running_emulator, server_env  # noqa: E402
from scripts.fc_process import free_port, start_server, stop  # noqa: E402

HEADERS = {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
SMALL = {"model": "qwen-plus", "messages": [{"role": "user", "content": "hello there"}]}


def start_tree(tree: Path, base_url: str):
    """The function in `tree`, with that tree's s.yaml command and settings."""
    props = yaml.safe_load((tree / "s.yaml").read_text())["resources"]["qwen"]["props"]
    settings = {name: str(value) for name, value in props["environmentVariables"].items()
                if "${" not in str(value) and name not in ("PATH", "PYTHONPATH")}
    port = free_port()
    env = {**settings, **server_env(base_url), "PORT": str(port), "HOST": "127.0.0.1"}
    return start_server(props["customRuntimeConfig"]["command"], env, port, cwd=tree)


def small_calls(session: requests.Session, url: str, path: str, calls: int) -> None:
    for _ in range(calls):
        response = session.post(url + path, json=SMALL, headers=HEADERS, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])


def long_stream(session: requests.Session, url: str) -> None:
    body = {"model": "qwen-plus", "stream": True, "messages": [{"role": "user", "content": LONG_STREAM}]}
    with session.post(url + "/v1/chat/completions", json=body, headers=HEADERS, stream=True, timeout=60) as response:
        assert response.status_code == 200, response.status_code
        for _ in response.iter_content(chunk_size=None):
            pass


def measure(sample: Sample, pid: int, per: int, run: Callable[[], None]) -> None:
    """One round of one figure: `run`'s latency and the server's CPU (from /proc), each per `per`."""
    cpu, wall = cpu_seconds(pid), time.perf_counter()
    run()
    sample.latency_us.append((time.perf_counter() - wall) / per * 1e6)
    sample.cpu_us.append((cpu_seconds(pid) - cpu) / per * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="the baseline checkout")
    parser.add_argument("--new", type=Path, required=True, help="the checkout under test")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=150, help="small calls per door, tree and round")
    parser.add_argument("--quick", action="store_true", help="a few calls only: checks the script runs")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.calls = 2, 10
    trees = {"old": options.old.resolve(), "new": options.new.resolve()}
    sessions = {name: requests.Session() for name in trees}
    figures = {name: {kind: Sample() for kind in ("/invoke", "/v1", "stream")} for name in trees}
    with running_emulator() as base_url, ExitStack() as started:
        servers = {}
        for name, tree in trees.items():
            servers[name] = start_tree(tree, base_url)
            started.callback(stop, servers[name][0])
        for name, (process, url) in servers.items():  # warm: imports, the tokenizer, connections
            small_calls(sessions[name], url, "/invoke", 20)
            small_calls(sessions[name], url, "/v1/chat/completions", 20)
            long_stream(sessions[name], url)
        names = list(trees)
        for round_number in range(options.rounds):
            for name in names if round_number % 2 == 0 else names[::-1]:
                process, url = servers[name]
                for kind, path in (("/invoke", "/invoke"), ("/v1", "/v1/chat/completions")):
                    measure(figures[name][kind], process.pid, options.calls,
                            lambda: small_calls(sessions[name], url, path, options.calls))
                measure(figures[name]["stream"], process.pid, LONG_STREAM_EVENTS, lambda: long_stream(sessions[name], url))
    print(f"\n{trees['old']} (old) against {trees['new']} (new): {options.rounds} interleaved rounds, "
          f"{options.calls} small calls per door; µs per call (stream: per event), median (min–max); "
          f"server CPU from /proc; {os.cpu_count()} cores\n")
    print("| figure | old | new | new against old |")
    print("|---|---|---|---|")
    for kind in ("/invoke", "/v1", "stream"):
        for what in ("cpu_us", "latency_us"):
            old, new = getattr(figures["old"][kind], what), getattr(figures["new"][kind], what)
            label = f"{kind} {'server CPU' if what == 'cpu_us' else 'latency'}"
            change = statistics.median(n - o for n, o in zip(new, old))
            print(f"| {label} | {_spread(old)} | {_spread(new)} | {change:+.1f} µs; new {verdict(new, old)} |")


if __name__ == "__main__":
    main()
