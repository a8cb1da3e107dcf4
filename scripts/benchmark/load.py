"""What a server spends, read from the kernel rather than timed: CPU per small call and per relayed
event of a long stream (utime + stime from /proc/<pid>/stat, which do not move with what else the
machine is doing), and the requests per second it sustains at 32 connections."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from scripts.benchmark.callers import Callers
from scripts.benchmark.common import LONG_STREAM, LONG_STREAM_EVENTS, Results, Settings
from scripts.benchmark.measure import rotated
from scripts.benchmark.peers import PEERS
from scripts.benchmark.servers import cpu_seconds

CONNECTIONS = 32
BLOCKS = 4  # the calls of each target in blocks, targets interleaved between blocks


def measure_cpu_per_call(settings: Settings, callers: Callers, pids: dict[str, int], results: Results) -> None:
    """Server CPU (every process and thread of it) per small call, made one at a time; and "direct":
    the CPU the SDK itself spends on the same call (this thread's, calling the emulator directly),
    the share of the function's CPU that any gateway built on the SDK pays."""
    spent = {target: 0.0 for target in [*pids, "direct"]}
    per_block = max(1, settings.cpu_calls // BLOCKS)
    for target in spent:  # warm: a target's first call may import what it calls (the relay floor: the SDK)
        callers.call(target, "warm up")
    for block in range(BLOCKS):
        for target in rotated(list(spent), block):
            read = (lambda: cpu_seconds(pids[target])) if target in pids else time.thread_time
            before = read()
            for number in range(per_block):
                callers.call(target, f"cpu {number}")
            spent[target] += read() - before
    results.cpu_ms = {target: seconds / (per_block * BLOCKS) * 1000 for target, seconds in spent.items()}


def measure_requests_per_second(settings: Settings, callers: Callers, pids: dict[str, int], results: Results) -> None:
    """Small calls on 32 connections at once, as fast as the server answers them, in blocks, the targets
    interleaved between blocks; and the cores the server (`pids[target]`, its whole process tree) used
    meanwhile: its CPU seconds over the wall's."""
    per_connection = max(1, settings.rps_calls // CONNECTIONS // BLOCKS)
    wall = {target: 0.0 for target in pids}
    cpu = {target: 0.0 for target in pids}

    def connection(target: str) -> None:
        for number in range(per_connection):
            callers.call(target, f"load {number}")

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        for target in pids:  # one warm-up call per connection
            list(pool.map(lambda _: callers.call(target, "warm up"), range(CONNECTIONS)))
        for block in range(BLOCKS):
            for target in rotated(list(pids), block):
                cpu_before, started = cpu_seconds(pids[target]), time.perf_counter()
                list(pool.map(lambda _: connection(target), range(CONNECTIONS)))
                wall[target] += time.perf_counter() - started
                cpu[target] += cpu_seconds(pids[target]) - cpu_before
    for target in pids:
        results.rps[target] = per_connection * CONNECTIONS * BLOCKS / wall[target]
        results.rps_cores[target] = cpu[target] / wall[target]


def _consume_direct(callers: Callers, target: str) -> float:
    """The client's own CPU (this thread's) to consume one long stream directly with its SDK."""
    started = time.thread_time()
    callers.stream(target, LONG_STREAM)
    return time.thread_time() - started


def measure_long_streams(settings: Settings, callers: Callers, pids: dict[str, int], results: Results) -> None:
    """CPU per relayed event of a 2,000-event stream: each door's server, against the SDK's own CPU
    to consume the same stream directly ("direct": the DashScope SDK; "direct-compat": OpenAI's)."""
    directs = ["direct"] + (["direct-compat"] if set(pids) & set(PEERS) else [])
    spent = {target: 0.0 for target in [*pids, *directs]}
    for target in spent:  # warm: the first long stream also pays for imports and buffers
        callers.stream(target, LONG_STREAM)
    for repeat in range(settings.long_streams):
        for target in rotated(list(spent), repeat):
            if target in pids:
                before = cpu_seconds(pids[target])
                callers.stream(target, LONG_STREAM)
                spent[target] += cpu_seconds(pids[target]) - before
            else:
                spent[target] += _consume_direct(callers, target)
    events = LONG_STREAM_EVENTS * settings.long_streams
    results.chunk_cpu_us = {target: seconds / events * 1e6 for target, seconds in spent.items()}
