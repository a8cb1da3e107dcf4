"""The function's own work per request, in-process, beside the floor app's: a steady number to profile
against, where run.py's figures move with the machine from one run to the next.

No server and no network: each request goes straight to the WSGI app. DashScope's answers are first
recorded from the emulator through the real SDK, then replayed instantly by a stand-in for the SDK's
Generation API, so what is timed is the function alone: request tracking, parsing, validation, the
adapter, the answer's JSON or the stream's events. Log lines are off (LOG_LEVEL=WARNING): the server
writes them after the answer has gone out, on another thread.

    python scripts/benchmark/own_cost.py            # about 30 seconds
    python scripts/benchmark/own_cost.py --quick    # seconds, numbers not meaningful
    python scripts/benchmark/own_cost.py --profile "a call (POST /v1/chat/completions)"   # where it goes

--profile runs one case a few thousand times under pyinstrument (dev requirements) and prints where
its time went; the case names are the table's rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scripts.benchmark.common import KEY, machine  # noqa: E402
from scripts.benchmark.servers import emulator_process  # noqa: E402
from scripts.fc_process import free_port, stop  # noqa: E402


class RecordedGeneration:
    """Stands in for the SDK's Generation API: replays one recorded answer, or one recorded stream."""

    def __init__(self, answer: Any, chunks: list[Any]) -> None:
        self._answer, self._chunks = answer, chunks

    def call(self, **kwargs: Any) -> Any:
        return (chunk for chunk in self._chunks) if kwargs.get("stream") else self._answer


def record(generation: Any, base_url: str) -> RecordedGeneration:
    asked = {"model": "qwen-plus", "messages": [{"role": "user", "content": "hello there"}], "api_key": KEY,
             "base_address": base_url, "result_format": "message"}
    chunks = list(generation.call(**asked, stream=True, incremental_output=True))
    return RecordedGeneration(generation.call(**asked), chunks)


def session_cost(generation: Any, base_url: str, count: int) -> dict[str, float]:
    """One real SDK call over loopback, on a plain requests session (which reads the environment for
    proxies and ~/.netrc on every call) and on the function's own (which read it once), interleaved."""
    import requests

    from core.upstream.session import pooled_session

    sessions = {"requests' default session": requests.Session(), "the function's session": pooled_session(base_url)}
    asked = {"model": "qwen-plus", "messages": [{"role": "user", "content": "hi"}], "api_key": KEY,
             "base_address": base_url, "result_format": "message"}
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(count):
        for name, session in sessions.items():
            started = time.perf_counter()
            generation.call(**asked, session=session)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


CHAT = json.dumps({"model": "qwen-plus", "messages": [{"role": "user", "content": "hello there"}]}).encode()


def timed(app: Any, path: str, method: str = "POST", first_only: bool = False, body: bytes = b"hello there") -> float:
    """Seconds from handing the request to the app until its answer (or first event) is out."""
    target, _, query = path.partition("?")
    content_type = "application/json" if body.startswith(b"{") else "text/plain"
    environ = EnvironBuilder(path=target, query_string=query, method=method,
                             data=body if method == "POST" else None, content_type=content_type).get_environ()
    started = time.perf_counter()
    response = app(environ, lambda *_: None)
    body: Iterator[bytes] = iter(response)
    next(body, None)
    if not first_only:
        for _ in body:
            pass
    elapsed = time.perf_counter() - started
    for _ in body:  # the rest of a stream, untimed
        pass
    getattr(response, "close", lambda: None)()
    return elapsed


def median_us(measure: Callable[[], float], count: int) -> float:
    return statistics.median(measure() for _ in range(count)) * 1e6


def profile(case: Callable[[], float], count: int) -> None:
    from pyinstrument import Profiler

    for _ in range(200):  # warm
        case()
    profiler = Profiler(interval=0.0001)
    with profiler:
        for _ in range(count):
            case()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", metavar="CASE", help="profile one case (a row's name) with pyinstrument")
    options = parser.parse_args()
    count, rounds = (200, 1) if options.quick else (3000, 5)

    port = free_port()
    emulator = emulator_process(port)
    base_url = f"http://127.0.0.1:{port}/api/v1"
    os.environ.update(DASHSCOPE_API_KEY=KEY, DASHSCOPE_HTTP_BASE_URL=base_url, LOG_LEVEL="WARNING")
    import core.upstream.sdk
    from app import create_app
    from floor_app import app as floor

    try:
        sessions = session_cost(core.upstream.sdk.Generation, base_url, 60 if options.quick else 1500)
        core.upstream.sdk.Generation = record(core.upstream.sdk.Generation, base_url)
    finally:
        stop(emulator)
    function = create_app()

    cases = {
        "a call (POST /invoke)": (lambda: timed(function, "/invoke"), lambda: timed(floor, "/invoke")),
        "a stream, to its first event": (lambda: timed(function, "/invoke?stream=true", first_only=True),
                                         lambda: timed(floor, "/stream", first_only=True)),
        "a whole stream (5 events)": (lambda: timed(function, "/invoke?stream=true"), None),
        "a call (POST /v1/chat/completions)": (lambda: timed(function, "/v1/chat/completions", body=CHAT),
                                               lambda: timed(floor, "/invoke")),
        "a /v1 stream, to its first event": (
            lambda: timed(function, "/v1/chat/completions", first_only=True, body=CHAT[:-1] + b', "stream": true}'),
            lambda: timed(floor, "/stream", first_only=True)),
        "GET /health": (lambda: timed(function, "/health", "GET"), lambda: timed(floor, "/health", "GET")),
    }
    if options.profile:
        profile(cases[options.profile][0], count * 5)
        return
    results: dict[str, list[tuple[float, float | None]]] = {name: [] for name in cases}
    for _ in range(rounds):  # the best of several medians: the least disturbed by the rest of the machine
        for name, (ours, floors) in cases.items():
            results[name].append((median_us(ours, count), median_us(floors, count) if floors else None))

    print("| per request, in-process | the function | the floor app | the function's own work |")
    print("|---|---|---|---|")
    for name, measured in results.items():
        ours = min(value for value, _ in measured)
        floor_values = [value for _, value in measured if value is not None]
        if floor_values:
            print(f"| {name} | {ours:.0f} µs | {min(floor_values):.0f} µs | {ours - min(floor_values):.0f} µs |")
        else:
            print(f"| {name} | {ours:.0f} µs | | |")
    print(f"\n| one SDK call to the emulator ({len(os.environ)} environment variables) | median |\n|---|---|")
    for name, value in sessions.items():
        print(f"| {name} | {value:.0f} µs |")
    print(f"\n_{time.strftime('%Y-%m-%d')}, {machine()}{', QUICK RUN' if options.quick else ''}._")


if __name__ == "__main__":
    main()
