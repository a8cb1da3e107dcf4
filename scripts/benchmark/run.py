"""The benchmark: what the function costs in front of DashScope, measured in one run on this machine.

It starts the bundled emulator (the upstream), the function exactly as s.yaml starts it, the floor
(a do-nothing Flask app under the same gunicorn settings: what one extra hop costs at all) and the
official FC sample rebuilt as a baseline (official_sample.py). It measures them interleaved, round
by round, so the machine's drift falls on all alike, against the same calls made directly with the
SDK:

- added latency p50/p99 over a direct SDK call, and the time to the first streamed event (of a stream
  paced like a model's, PACED_STREAM);
- concurrent calls and streams with a 1 s upstream, from 1 to 128 at once;
- the resident memory of each whole server after the load, and its cold start (spawn to first 200).
- the FC code package (built as s.yaml's pre-deploy builds it): its size zipped, and its cold start on a
  bare Python with nothing but the package's ./python (package.py), against the package before it held
  only what runs.

It prints a markdown table with the targets, writes it to docs/benchmark.md and a plot of latency
against concurrency to docs/benchmark.png, and with --update-readme puts the table in both READMEs.

    python scripts/benchmark/run.py            # about a minute
    python scripts/benchmark/run.py --quick    # a smoke run: seconds, numbers not meaningful
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts import build_fc_package  # noqa: E402
from scripts.benchmark import package  # noqa: E402
from scripts.fc_process import free_port, rss_mb, start_like_fc, start_server, stop  # noqa: E402

HERE = Path(__file__).resolve().parent
KEY = "sk-benchmark-fake-key-0000"
UPSTREAM_S = 1.0
# The FC package before it held only what runs (commit 59705a8: requirements.txt with every SDK extra),
# measured by scripts/benchmark/package.py interleaved with the new one, 9 cold starts each (new: 0.40 s).
BEFORE_PACKAGE_ZIPPED_MB, BEFORE_PACKAGE_COLD_S = 32.7, 0.43
README_START, README_END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
PYTHON_BIN = str(Path(sys.executable).parent)


@dataclass
class Settings:
    rounds: int = 300
    levels: tuple[int, ...] = (1, 8, 32, 64, 128)
    cold_starts: int = 3
    quick: bool = False


@dataclass
class Results:
    latency: dict[str, list[float]] = field(default_factory=dict)
    first_event: dict[str, list[float]] = field(default_factory=dict)
    batch_s: dict[tuple[str, int], float] = field(default_factory=dict)
    call_s: dict[tuple[str, int], float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    cold_start_s: dict[str, list[float]] = field(default_factory=dict)
    package_zipped_mb: float = 0.0
    package_cold_s: float = 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# -- the servers ---------------------------------------------------------------------------------


def emulator_process(port: int) -> subprocess.Popen:
    return start_server(
        [sys.executable, str(ROOT / "scripts" / "dashscope_emulator.py"), "--port", str(port), "--chunk-delay", "0"],
        dict(os.environ),
        port,
        ready_path="/_emulator/health",
    )[0]


def server_env(base_url: str) -> dict[str, str]:
    return {
        "PATH": f"{PYTHON_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DASHSCOPE_API_KEY": KEY,
        "DASHSCOPE_HTTP_BASE_URL": base_url,
    }


def start_function(base_url: str) -> tuple[subprocess.Popen, str]:
    return start_like_fc(server_env(base_url))


def start_floor(base_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = ["python3", "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"), "--chdir", str(HERE), "floor_app:app"]
    return start_server(command, {**server_env(base_url), "PORT": str(port), "HOST": "127.0.0.1"}, port)


def start_official(base_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    return start_server(["python3", str(HERE / "official_sample.py"), str(port)], server_env(base_url), port)


STARTERS: dict[str, Callable[[str], tuple[subprocess.Popen, str]]] = {
    "function": start_function,
    "floor": start_floor,
    "official": start_official,
}


# -- the calls -----------------------------------------------------------------------------------


class Callers:
    """One way to make each kind of call to each target, on keep-alive connections per thread.

    HTTP targets are called with http.client, the leanest client there is, so that what is measured
    is the server rather than the client library. The direct baseline is the SDK, as a caller of
    DashScope would use it (with a pool as large as the function's).
    """

    def __init__(self, urls: dict[str, str], base_url: str) -> None:
        self.urls = urls
        self.base_url = base_url
        self._local = threading.local()
        from dashscope import Generation

        self._generation = Generation

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.mount("http://", HTTPAdapter(pool_maxsize=256))
            self._local.session = session
        return self._local.session

    def _connection(self, target: str) -> http.client.HTTPConnection:
        connections = self._local.__dict__.setdefault("connections", {})
        if target not in connections:
            host, port = self.urls[target].removeprefix("http://").split(":")
            connections[target] = http.client.HTTPConnection(host, int(port), timeout=60)
        return connections[target]

    def _post(self, target: str, path: str, text: str) -> http.client.HTTPResponse:
        connection = self._connection(target)
        connection.request("POST", path, body=text.encode(), headers={"Content-Type": "text/plain"})
        return connection.getresponse()

    def call(self, target: str, text: str) -> None:
        if target == "direct":
            response = self._generation.call(
                "qwen-turbo",
                messages=[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": text}],
                api_key=KEY,
                base_address=self.base_url,
                result_format="message",
                session=self._session(),
            )
            assert response.status_code == 200, response
            return
        response = self._post(target, "/invoke", text)
        body = response.read()
        assert response.status == 200, body

    def first_event(self, target: str, text: str) -> float:
        """Seconds to the first streamed event; the rest of the stream is read and discarded."""
        started = time.perf_counter()
        if target == "direct":
            chunks = self._generation.call(
                "qwen-turbo",
                messages=[{"role": "user", "content": text}],
                api_key=KEY,
                base_address=self.base_url,
                result_format="message",
                stream=True,
                incremental_output=True,
                session=self._session(),
            )
            first = None
            for chunk in chunks:
                first = first or time.perf_counter() - started
            return first or 0.0
        response = self._post(target, "/stream" if target == "floor" else "/invoke?stream=true", text)
        assert response.status == 200
        first = None
        for line in iter(response.readline, b""):
            if line.startswith(b"data:"):
                first = first or time.perf_counter() - started
        return first or 0.0

    def stream(self, target: str, text: str) -> None:
        self.first_event(target, text)


# -- the measurements ----------------------------------------------------------------------------


def measure_cold_starts(settings: Settings, base_url: str, results: Results) -> None:
    for _ in range(settings.cold_starts):
        for name, start in STARTERS.items():
            spawned = time.monotonic()
            process, _ = start(base_url)
            results.cold_start_s.setdefault(name, []).append(time.monotonic() - spawned)
            stop(process)


def measure_package(settings: Settings, base_url: str, results: Results) -> None:
    """The code package s.yaml uploads (built as its pre-deploy does), started on a bare Python."""
    results.package_zipped_mb, results.package_cold_s = package.measure(build_fc_package.build(), base_url, settings.cold_starts)


# The first-event streams arrive at a model's pace, one event every 10 ms. Sent all at once (what the
# emulator does by default), the rest of a stream is relayed while the client is still reading the
# first event, and on two cores the two compete: the figure would measure that contention, which a
# real stream, whose next token is tens of milliseconds away, does not have.
PACED_STREAM = '[[emulate reply="Hello there!" chunk_delay=0.01]]'


def measure_latency(settings: Settings, callers: Callers, results: Results) -> None:
    targets = ["direct", "function", "floor", "official"]
    stream_targets = ["direct", "function", "floor"]
    for target in targets:  # warm every path once
        callers.call(target, "warm up")
    for round_number in range(settings.rounds):
        order = targets[round_number % 4 :] + targets[: round_number % 4]
        for target in order:
            started = time.perf_counter()
            callers.call(target, f"round {round_number}")
            results.latency.setdefault(target, []).append(time.perf_counter() - started)
        for target in stream_targets[round_number % 3 :] + stream_targets[: round_number % 3]:
            results.first_event.setdefault(target, []).append(callers.first_event(target, f"round {round_number} {PACED_STREAM}"))


def measure_concurrency(settings: Settings, callers: Callers, results: Results) -> None:
    text = f"slow call [[emulate delay={UPSTREAM_S}]]"
    kinds = [("direct", callers.call), ("function", callers.call), ("official", callers.call)]
    streams = [("direct-stream", callers.stream), ("function-stream", callers.stream)]
    for level in settings.levels:
        batch = kinds + (streams if level == max(settings.levels) else [])
        random.shuffle(batch)
        for name, make in batch:
            target = name.removesuffix("-stream")
            durations: list[float] = []

            def one(_: int) -> None:
                started = time.perf_counter()
                make(target, text)
                durations.append(time.perf_counter() - started)

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=level) as pool:
                list(pool.map(one, range(level)))
            results.batch_s[(name, level)] = time.perf_counter() - started
            results.call_s[(name, level)] = statistics.mean(durations)


# -- the report ----------------------------------------------------------------------------------


def report(settings: Settings, results: Results) -> tuple[str, list[bool]]:
    ms = 1000
    paired = lambda target: [t - d for t, d in zip(results.latency[target], results.latency["direct"])]  # noqa: E731
    added_p50 = percentile(paired("function"), 50) * ms
    added_p99 = percentile(paired("function"), 99) * ms
    official_p50 = percentile(paired("official"), 50) * ms
    floor_p50 = percentile(results.latency["floor"], 50) * ms
    ttfe_added = (percentile(results.first_event["function"], 50) - percentile(results.first_event["direct"], 50)) * ms
    floor_ttfe = percentile(results.first_event["floor"], 50) * ms
    top = max(settings.levels)
    calls_ratio = results.batch_s[("function", top)] / results.batch_s[("direct", top)]
    streams_ratio = results.batch_s[("function-stream", top)] / results.batch_s[("direct-stream", top)]
    cold = statistics.median(results.cold_start_s["function"])

    rows = [
        ("added latency p50", f"{added_p50:.2f} ms", f"floor hop {floor_p50:.2f} ms, official sample adds {official_p50:.2f} ms",
         f"≤ 1.3× floor ({1.3 * floor_p50:.2f}) and ≤ 0.8× official ({0.8 * official_p50:.2f})",
         added_p50 <= 1.3 * floor_p50 and added_p50 <= 0.8 * official_p50),
        ("added latency p99", f"{added_p99:.2f} ms", f"official sample adds {percentile(paired('official'), 99) * ms:.2f} ms", "≤ 6 ms", added_p99 <= 6),
        ("first streamed event, added", f"{ttfe_added:.2f} ms", f"floor hop {floor_ttfe:.2f} ms (official: no streaming)",
         f"≤ 1.3× floor ({1.3 * floor_ttfe:.2f})", ttfe_added <= 1.3 * floor_ttfe),
        (f"{top} concurrent {UPSTREAM_S:g} s calls", f"{results.batch_s[('function', top)]:.2f} s",
         f"direct SDK {results.batch_s[('direct', top)]:.2f} s, official {results.batch_s[('official', top)]:.2f} s",
         "≤ 1.25× direct", calls_ratio <= 1.25),
        (f"{top} concurrent {UPSTREAM_S:g} s streams", f"{results.batch_s[('function-stream', top)]:.2f} s",
         f"direct SDK {results.batch_s[('direct-stream', top)]:.2f} s", "≤ 1.25× direct", streams_ratio <= 1.25),
        ("RSS after the load", f"{results.rss_mb['function']:.0f} MB",
         f"floor {results.rss_mb['floor']:.0f} MB, official {results.rss_mb['official']:.0f} MB", "≤ 150 MB", results.rss_mb["function"] <= 150),
        ("cold start to first 200", f"{cold:.2f} s",
         f"floor {statistics.median(results.cold_start_s['floor']):.2f} s, official {statistics.median(results.cold_start_s['official']):.2f} s",
         "≤ 1.5 s", cold <= 1.5),
        ("FC package, zipped", f"{results.package_zipped_mb:.1f} MB", f"before: {BEFORE_PACKAGE_ZIPPED_MB:.1f} MB",
         "≤ 15 MB", results.package_zipped_mb <= 15),
        ("package cold start, bare Python", f"{results.package_cold_s:.2f} s", f"before: {BEFORE_PACKAGE_COLD_S:.2f} s",
         "≤ 1.5 s", results.package_cold_s <= 1.5),
    ]
    lines = [
        "| measure | the function | compared with | target | met |",
        "|---|---|---|---|---|",
        *[f"| {name} | {value} | {against} | {target} | {'yes' if met else '**no**'} |" for name, value, against, target, met in rows],
    ]
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {settings.rounds} rounds"
    table = "\n".join(lines) + f"\n\n_{time.strftime('%Y-%m-%d')}, {machine}{', QUICK RUN' if settings.quick else ''}._\n"
    return table, [met for *_, met in rows]


def plot(settings: Settings, results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, label in (("direct", "direct SDK call"), ("function", "the function"), ("official", "official FC sample")):
        axes.plot(settings.levels, [results.call_s[(name, level)] for level in settings.levels], marker="o", label=label)
    axes.axhline(UPSTREAM_S, color="grey", linestyle=":", label=f"upstream latency ({UPSTREAM_S:g} s)")
    axes.set_xscale("log", base=2)
    axes.set_xticks(settings.levels, [str(level) for level in settings.levels])
    axes.set_xlabel("concurrent calls")
    axes.set_ylabel("mean seconds per call")
    axes.set_title("Latency against concurrency, 1 s upstream")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def update_readme(table: str) -> None:
    """Put the table between the markers of both READMEs (the table itself stays in English)."""
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.DOTALL)
    for readme in (ROOT / "README.md", ROOT / "README_zh.md"):
        readme.write_text(pattern.sub(lambda _: f"{README_START}\n{table}\n{README_END}", readme.read_text()))


def run(settings: Settings, out: Path) -> tuple[str, list[bool]]:
    emulator_port = free_port()
    emulator = emulator_process(emulator_port)
    base_url = f"http://127.0.0.1:{emulator_port}/api/v1"
    results = Results()
    servers: dict[str, subprocess.Popen] = {}
    try:
        measure_cold_starts(settings, base_url, results)
        measure_package(settings, base_url, results)
        urls = {}
        for name, start in STARTERS.items():
            servers[name], urls[name] = start(base_url)
        callers = Callers(urls, base_url)
        measure_latency(settings, callers, results)
        measure_concurrency(settings, callers, results)
        results.rss_mb = {name: rss_mb(process.pid) for name, process in servers.items()}
    finally:
        for process in servers.values():
            stop(process)
        stop(emulator)
    table, met = report(settings, results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text(table)
    plot(settings, results, out / "benchmark.png")
    return table, met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few rounds, low concurrency")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--levels", default="1,8,32,64,128", help="concurrency levels, comma-separated")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--update-readme", action="store_true")
    options = parser.parse_args()
    settings = Settings(rounds=options.rounds, levels=tuple(int(level) for level in options.levels.split(",")))
    if options.quick:
        settings = Settings(rounds=10, levels=(1, 4), cold_starts=1, quick=True)
    table, met = run(settings, options.out)
    print(table)
    print(f"plot: {options.out / 'benchmark.png'}")
    if options.update_readme and not settings.quick:
        update_readme(table)
    print(f"targets met: {sum(met)} of {len(met)}")


if __name__ == "__main__":
    main()
