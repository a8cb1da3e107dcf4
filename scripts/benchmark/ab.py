"""What every A/B script of a trick shares (ab_*.py): interleaved rounds, CPU and latency per call,
and whether the difference is beyond the noise.

Each round runs every variant once, in an order that rotates from round to round, for the same
number of calls; a variant's figure for the round is its process CPU time (time.process_time: every
thread of this process, the writer threads included) and its wall time, each divided by the calls.
The noise is judged on the rounds, pairing each variant's figure with the other's from the same
round (they ran back to back, so a busy moment of the machine weighs on both): a difference is beyond
the noise when the two variants' ranges across rounds do not overlap, or when one variant is better
in so many rounds that chance would do it less than one time in twenty (a two-sided sign test).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from core.types import GenerationCall

# Runs that many calls; returns the seconds the calls themselves took when that is not the wall time
# of the whole run (a pause between calls that stands for a caller's think time), else None.
Variant = Callable[[int], "float | None"]

# The function's whole upstream call (QwenUpstream.complete through the real SDK to the emulator),
# what the client-side tricks (ab_session.py, ab_retry.py) are timed on.
UPSTREAM_CALL = GenerationCall(model="qwen-plus", messages=[{"role": "user", "content": "hello there"}],
                               parameters={"result_format": "message"})


def completing(client: Any) -> Variant:
    """A variant that makes `client` (a QwenUpstream) complete UPSTREAM_CALL, that many times."""
    def run(count: int) -> None:
        for _ in range(count):
            client.complete(UPSTREAM_CALL)
    return run


@dataclass
class Sample:
    cpu_us: list[float] = field(default_factory=list)
    latency_us: list[float] = field(default_factory=list)


def options(description: str, rounds: int, calls: int) -> argparse.Namespace:
    """--rounds and --calls with this script's defaults, and --quick for a smoke test (figures meaningless)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--calls", type=int, default=calls, help="calls per variant per round")
    parser.add_argument("--quick", action="store_true", help="a few calls only: checks the script runs")
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.rounds, parsed.calls = 2, max(5, calls // 100)
    return parsed


def interleaved(variants: dict[str, Variant], rounds: int, calls: int) -> dict[str, Sample]:
    names = list(variants)
    for name in names:  # warm: imports, connections, caches
        variants[name](max(1, calls // 10))
    samples = {name: Sample() for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            cpu, wall = time.process_time(), time.perf_counter()
            spent = variants[name](calls)
            wall = time.perf_counter() - wall if spent is None else spent
            samples[name].cpu_us.append((time.process_time() - cpu) / calls * 1e6)
            samples[name].latency_us.append(wall / calls * 1e6)
    return samples


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def sign_test(ours: list[float], other: list[float]) -> tuple[int, float]:
    """Rounds where `ours` was lower, and the two-sided chance of a split at least that uneven."""
    wins = sum(a < b for a, b in zip(ours, other))
    rounds = len(ours)
    tail = min(wins, rounds - wins)
    p = min(1.0, 2 * sum(math.comb(rounds, k) for k in range(tail + 1)) / 2 ** rounds)
    return wins, p


def verdict(ours: list[float], other: list[float]) -> str:
    """How the trick's figures compare to the baseline's across the rounds, in words."""
    disjoint = max(ours) < min(other) or max(other) < min(ours)
    wins, p = sign_test(ours, other)
    beyond = disjoint or p < 0.05
    return f"lower in {wins} of {len(ours)} rounds, sign test p={p:.3f}, {'beyond' if beyond else 'within'} noise"


def report(trick: str, samples: dict[str, Sample], rounds: int, calls: int) -> None:
    """A table (median and min–max over the rounds, µs per call), then one RESULT line per baseline
    (the trick is the first variant, every other one a baseline) with the median of the per-round
    differences and whether it is beyond the noise."""
    print(f"\n{trick}: {rounds} interleaved rounds of {calls} calls per variant; µs per call, median (min–max)\n")
    print("| variant | CPU per call | latency per call |")
    print("|---|---|---|")
    for name, sample in samples.items():
        print(f"| {name} | {_spread(sample.cpu_us)} | {_spread(sample.latency_us)} |")
    trick_name, *baselines = samples
    ours = samples[trick_name]
    for baseline in baselines:
        other = samples[baseline]
        cpu_gain = statistics.median(b - a for a, b in zip(ours.cpu_us, other.cpu_us))
        latency_gain = statistics.median(b - a for a, b in zip(ours.latency_us, other.latency_us))
        print(f"RESULT {trick}: vs {baseline}: saves {cpu_gain:+.1f} µs CPU per call "
              f"({verdict(ours.cpu_us, other.cpu_us)}); {latency_gain:+.1f} µs latency per call "
              f"({verdict(ours.latency_us, other.latency_us)})")
