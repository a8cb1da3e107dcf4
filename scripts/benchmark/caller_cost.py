"""What a caller key costs: a call made with a caller key against one made with the owner's token,
on the same instance, with the caller store in a redis-server on loopback.

It starts the emulator, a redis-server, and two instances of the function as s.yaml starts them: one
without a caller store (INVOKE_TOKEN only: the function as it was) and one with REDIS_URL. A caller
with rpm and tpm limits (high enough never to refuse) is added, so every call runs the whole check:
the key lookup, the atomic admission and the settlement. The three kinds of call are measured
interleaved, round by round, in a rotating order, so the machine's drift falls on all alike.

    python scripts/benchmark/caller_cost.py            # 300 rounds, about half a minute
    python scripts/benchmark/caller_cost.py --quick    # a smoke run: numbers not meaningful

Target: the caller key adds at most 0.5 ms at p50 over the owner's token (on the same instance).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.callers.redis_store import RedisCallerStore  # noqa: E402
from scripts.benchmark.common import percentile  # noqa: E402
from scripts.benchmark.servers import emulator_process, server_env  # noqa: E402
from scripts.fc_process import free_port, start_like_fc, stop  # noqa: E402
from tests.redis_fixture import start_redis  # noqa: E402

OWNER = "benchmark-owner-token"
TARGET_MS = 0.5
KINDS = ("owner, no store", "owner, with store", "caller key")


def call(connection: http.client.HTTPConnection, token: str, text: str) -> float:
    started = time.perf_counter()
    connection.request("POST", "/invoke", body=text.encode(),
                       headers={"Content-Type": "text/plain", "Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"a benchmark call failed: {response.status} {body[:300]!r}")
    return elapsed


def connection_to(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=60)


def measure(rounds: int) -> dict[str, list[float]]:
    emulator_port = free_port()
    emulator = emulator_process(emulator_port)
    base_url = f"http://127.0.0.1:{emulator_port}/api/v1"
    with tempfile.TemporaryDirectory() as directory:
        redis_server = start_redis(Path(directory))
        processes = []
        try:
            env = {**server_env(base_url), "INVOKE_TOKEN": OWNER}
            plain, plain_url = start_like_fc(env)
            processes.append(plain)
            stored, stored_url = start_like_fc({**env, "REDIS_URL": redis_server.url})
            processes.append(stored)
            _, key = RedisCallerStore(redis_server.url, timeout_s=5).add("benchmark", rpm=10**9, tpm=10**12)
            targets = {KINDS[0]: (connection_to(plain_url), OWNER), KINDS[1]: (connection_to(stored_url), OWNER),
                       KINDS[2]: (connection_to(stored_url), key)}
            for connection, token in targets.values():  # warm every path
                for _ in range(5):
                    call(connection, token, "warm up")
            latency: dict[str, list[float]] = {kind: [] for kind in KINDS}
            for round_number in range(rounds):
                shift = round_number % len(KINDS)
                for kind in KINDS[shift:] + KINDS[:shift]:
                    connection, token = targets[kind]
                    latency[kind].append(call(connection, token, f"round {round_number}"))
            return latency
        finally:
            for process in processes:
                stop(process)
            redis_server.kill()
            stop(emulator)


def report(latency: dict[str, list[float]]) -> tuple[str, bool]:
    ms = {kind: (statistics.median(values) * 1000, percentile(values, 99) * 1000) for kind, values in latency.items()}
    owner_p50, caller_p50 = ms[KINDS[1]][0], ms[KINDS[2]][0]
    added = caller_p50 - owner_p50
    met = added <= TARGET_MS
    rows = ["| call | p50 | p99 |", "|---|---|---|"]
    rows += [f"| {kind} | {p50:.2f} ms | {p99:.2f} ms |" for kind, (p50, p99) in ms.items()]
    rows.append(f"| **caller key over owner's token, p50** | **{added:+.2f} ms** | target ≤ {TARGET_MS} ms: "
                f"{'met' if met else 'NOT met'} |")
    rows.append(f"| store's cost to the owner's calls, p50 | {owner_p50 - ms[KINDS[0]][0]:+.2f} ms | |")
    return "\n".join(rows), met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 rounds")
    options = parser.parse_args()
    rounds = 20 if options.quick else options.rounds
    table, met = report(measure(rounds))
    print(f"{rounds} rounds, interleaved; emulator upstream, redis-server on loopback\n")
    print(table)


if __name__ == "__main__":
    main()
