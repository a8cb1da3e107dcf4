"""Two checkouts of the function side by side in one run: is any figure of the new one worse beyond
the noise? For a change that should not change speed (a restructure) or one that claims a gain.

Both trees are started as s.yaml starts them (each tree's own s.yaml and settings), in front of one
emulator, and measured in interleaved rounds (the order rotates from round to round, so a busy moment
of the machine weighs on both): per round and tree, small calls on /invoke and on /v1 (latency per
call, and the server's CPU per call from /proc, every process and thread of it), and one long stream
(the server's CPU per relayed event). The verdict per figure pairs the two trees' rounds (ab.py).

With `--paced N`, each round also sends each tree N streams at once at a model's pace (an event every
100 ms, `--paced-seconds` long; the many-streams row's streams, many_streams.py): the server's CPU per
relayed event, and the first event's p99 as its latency. Then, as in that row, the servers run on a core
of their own (the last) and the emulator and the client on the others.

    git worktree add /tmp/old <commit>
    python scripts/benchmark/compare_trees.py --old /tmp/old --new .      # about a minute
    python scripts/benchmark/compare_trees.py --old /tmp/old --new . --paced 200 --rounds 6   # about 5 minutes
    python scripts/benchmark/compare_trees.py --old /tmp/old --new . --quick
"""

from __future__ import annotations

import argparse
import json
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
from scripts.benchmark.common import GATEWAY_TOKEN, LONG_STREAM, LONG_STREAM_EVENTS, Settings, percentile  # noqa: E402
from scripts.benchmark.many_streams import Server, at_once, gateway_stream, instance_core, pin, stream_text  # noqa: E402
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


def paced_streams(sample: Sample, pid: int, url: str, settings: Settings) -> None:
    """One round of the paced figure: `settings.many_streams` streams at once; CPU per event, first event p99."""
    reply, text = stream_text(settings)
    body = json.dumps({**SMALL, "stream": True, "messages": [{"role": "user", "content": text}]}).encode()
    function = Server(lambda: (None, url), "/v1/chat/completions", {})
    cpu = cpu_seconds(pid)
    outcomes = at_once(settings.many_streams, lambda: gateway_stream(url, function, body, reply))
    sample.cpu_us.append((cpu_seconds(pid) - cpu) / (settings.many_streams * settings.many_stream_events) * 1e6)
    assert all(whole for *_, whole in outcomes), "a paced stream did not finish whole"
    sample.latency_us.append(percentile([first for _, _, first, _ in outcomes if first is not None], 99) * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="the baseline checkout")
    parser.add_argument("--new", type=Path, required=True, help="the checkout under test")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=150, help="small calls per door, tree and round")
    parser.add_argument("--paced", type=int, default=0, help="streams at once at a model's pace, per tree and round")
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="how long each paced stream lasts")
    parser.add_argument("--quick", action="store_true", help="a few calls only: checks the script runs")
    options = parser.parse_args()
    if options.quick:
        options.rounds, options.calls, options.paced_seconds = 2, 10, min(options.paced_seconds, 0.5)
    trees = {"old": options.old.resolve(), "new": options.new.resolve()}
    sessions = {name: requests.Session() for name in trees}
    kinds = ("/invoke", "/v1", "stream") + (("paced",) if options.paced else ())
    figures = {name: {kind: Sample() for kind in kinds} for name in trees}
    paced = Settings(many_streams=options.paced, many_stream_s=options.paced_seconds)
    split = instance_core() if options.paced else None
    if split is not None:
        os.sched_setaffinity(0, split[1])  # the emulator started below, and this client: the other cores
    with running_emulator() as base_url, ExitStack() as started:
        servers = {}
        for name, tree in trees.items():
            servers[name] = start_tree(tree, base_url)
            started.callback(stop, servers[name][0])
            if split is not None:
                pin(servers[name][0].pid, split[0])
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
                if options.paced:
                    paced_streams(figures[name]["paced"], process.pid, url, paced)
    print(f"\n{trees['old']} (old) against {trees['new']} (new): {options.rounds} interleaved rounds, "
          f"{options.calls} small calls per door; µs per call (stream: per event), median (min–max); "
          f"server CPU from /proc; {os.cpu_count()} cores"
          + (f"; paced: {options.paced} streams of {options.paced_seconds:g} s at once, CPU per event, "
             "latency = first event p99, the servers on one core" if options.paced else "") + "\n")
    print("| figure | old | new | new against old |")
    print("|---|---|---|---|")
    for kind in kinds:
        for what in ("cpu_us", "latency_us"):
            old, new = getattr(figures["old"][kind], what), getattr(figures["new"][kind], what)
            label = f"{kind} {'server CPU' if what == 'cpu_us' else 'latency'}"
            change = statistics.median(n - o for n, o in zip(new, old))
            print(f"| {label} | {_spread(old)} | {_spread(new)} | {change:+.1f} µs; new {verdict(new, old)} |")


if __name__ == "__main__":
    main()
