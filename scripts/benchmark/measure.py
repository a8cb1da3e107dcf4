"""The latency measurements: added latency and first event, interleaved round by round so that the
machine's drift falls on every target alike; concurrent calls and streams; cold starts; the package."""

from __future__ import annotations

import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from scripts import build_fc_package
from scripts.benchmark import package
from scripts.benchmark.callers import Callers
from scripts.benchmark.common import PACED_STREAM, UPSTREAM_S, Results, Settings
from scripts.benchmark.servers import Starter
from scripts.fc_process import stop


def rotated(items: list[str], by: int) -> list[str]:
    by %= len(items)
    return items[by:] + items[:by]


def measure_cold_starts(settings: Settings, starters: dict[str, Callable[[], object]], results: Results) -> None:
    """Spawn to first 200, each server in turn (`starters` start one and return its process)."""
    for _ in range(settings.cold_starts):
        for name, start in starters.items():
            spawned = time.monotonic()
            process = start()
            results.cold_start_s.setdefault(name, []).append(time.monotonic() - spawned)
            stop(process)  # type: ignore[arg-type]


def cold_starters(starters: dict[str, Starter], base_url: str, extra: dict[str, Callable[[], object]]) -> dict[str, Callable[[], object]]:
    made: dict[str, Callable[[], object]] = {name: (lambda start=start: start(base_url)[0]) for name, start in starters.items()}
    return {**made, **extra}


def measure_package(settings: Settings, base_url: str, results: Results) -> None:
    """The code package s.yaml uploads (built as its pre-deploy does), started on a bare Python."""
    results.package_zipped_mb, results.package_cold_s = package.measure(build_fc_package.build(), base_url, settings.cold_starts)


def measure_latency(settings: Settings, callers: Callers, results: Results, peers: tuple[str, ...]) -> None:
    """The function's targets round by round, then each peer's, each peer against its own direct calls
    made in its own rounds (kept as "direct-compat/<peer>"): LiteLLM goes on working after it has
    answered (its success callbacks), and interleaved with other calls that work lands on theirs, on
    this machine's two cores."""
    _latency_rounds(settings, callers, results, ["direct", "function", "function-v1", "function-responses", "function-anthropic", "floor", "official"],
                    ["direct", "function", "function-v1", "function-responses", "function-anthropic", "floor"])
    for peer in peers:
        _latency_rounds(settings, callers, results, ["direct-compat", peer], ["direct-compat", peer])
        for measured in (results.latency, results.first_event):
            measured[f"direct-compat/{peer}"] = measured.pop("direct-compat")


def _latency_rounds(settings: Settings, callers: Callers, results: Results, targets: list[str], stream_targets: list[str]) -> None:
    for target in targets:  # warm every path once
        callers.call(target, "warm up")
        if target in stream_targets:
            callers.first_event(target, "warm up")
    for round_number in range(settings.rounds):
        for target in rotated(targets, round_number):
            started = time.perf_counter()
            callers.call(target, f"round {round_number}")
            results.latency.setdefault(target, []).append(time.perf_counter() - started)
        for target in rotated(stream_targets, round_number):
            results.first_event.setdefault(target, []).append(callers.first_event(target, f"round {round_number} {PACED_STREAM}"))


def batch(level: int, make: Callable[[str, str], object], target: str, text: str) -> tuple[float, float]:
    """`level` calls at once: the whole batch's seconds, and the mean seconds of one call."""
    durations: list[float] = []

    def one(_: int) -> None:
        started = time.perf_counter()
        make(target, text)
        durations.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=level) as pool:
        list(pool.map(one, range(level)))
    return time.perf_counter() - started, statistics.mean(durations)


def measure_concurrency(settings: Settings, callers: Callers, results: Results, peers: tuple[str, ...]) -> None:
    text = f"slow call [[emulate delay={UPSTREAM_S}]]"
    compat = ["direct-compat", *peers] if peers else []
    call_targets = ["direct", "function", "official", *compat]
    # "relay": the floor app relaying the SDK's stream and nothing else, a plain gateway on the SDK as documented.
    stream_targets = ["direct", "function", "function-v1", "relay", *compat]
    for target in stream_targets:  # warm: the relay floor's first stream imports the SDK
        callers.stream(target, "warm up")
    for level in settings.levels:
        kinds = [(target, callers.call) for target in call_targets]
        if level == max(settings.levels):
            kinds += [(f"{target}-stream", callers.stream) for target in stream_targets]
        random.shuffle(kinds)
        for name, make in kinds:
            results.batch_s[(name, level)], results.call_s[(name, level)] = batch(level, make, name.removesuffix("-stream"), text)


def plot(settings: Settings, results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    lines = [("direct", "direct SDK call"), ("function", "the function"), ("official", "official FC sample"),
             ("direct-compat", "direct OpenAI-client call (compatible mode)"), ("litellm", "LiteLLM proxy"),
             ("portkey", "Portkey gateway")]
    for name, label in lines:
        if (name, settings.levels[0]) in results.call_s:
            axes.plot(settings.levels, [results.call_s[(name, level)] for level in settings.levels], marker="o", label=label)
    axes.axhline(UPSTREAM_S, color="grey", linestyle=":", label=f"upstream latency ({UPSTREAM_S:g} s)")
    axes.set_xscale("log", base=2)
    axes.set_xticks(settings.levels, [str(level) for level in settings.levels])
    axes.set_xlabel("concurrent calls")
    axes.set_ylabel("mean seconds per call")
    axes.set_title("Latency against concurrency, 1 s upstream")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
