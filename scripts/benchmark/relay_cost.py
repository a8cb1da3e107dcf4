"""What relaying one stream event costs, part by part, in-process: the row "CPU per relayed event"
(run.py) taken apart, to show what bounds it.

The emulator's 2,000-event stream (common.LONG_STREAM) is recorded once, then served again by a replay
server inside this process that writes it all at once, each event its own HTTP chunk as DashScope
sends them: so nothing waits on a producer, and the CPU read (this process's, process_time) is the
consumer's. Figures are CPU microseconds per event, the best of several interleaved rounds:

- requests reading the stream's lines, and nothing else (the transport under the SDK);
- the DashScope SDK consuming the stream: its Generation.call as anyone calls it (each event made
  into its response objects), and as the function calls it (the responses its HTTP layer decoded,
  handed over as they are: core/upstream/sdk_stand_ins.py);
- the function's own work per event for each door, the SDK replaced by a replay of its recorded
  chunks (as the SDK hands them to the function): parse, shape, JSON, the request's log fields;
- the JSON parts: one event's body written by the standard library's encoder and by orjson, and a
  chunk copied to plain dicts in Python and by an orjson round trip (web/json_output.py,
  core/upstream/answers.py).

What the function's server pays per event on top of these: one socket write (gunicorn writes each
event as it comes; a streamed answer's next token is tens of milliseconds away, so there is never a
second one to write with it) and the reads of DashScope's socket.

    python scripts/benchmark/relay_cost.py              # about a minute
    python scripts/benchmark/relay_cost.py --quick      # seconds, figures meaningless
    python scripts/benchmark/relay_cost.py --profile    # where one /invoke stream's CPU goes, the SDK's part and the function's (cProfile)
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import os
import pstats
import socketserver
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.benchmark.common import KEY, LONG_STREAM, machine  # noqa: E402
from scripts.benchmark.servers import running_emulator  # noqa: E402

TOKEN = "relay-cost-token"
DOORS = {
    "/invoke": ("/invoke?stream=true", {"data": "hi", "content_type": "text/plain"}),
    "/v1/chat/completions": ("/v1/chat/completions", {"json": {"model": "qwen-plus", "stream": True, "messages": [{"role": "user", "content": "hi"}]}}),
    "/v1/responses": ("/v1/responses", {"json": {"model": "qwen-plus", "stream": True, "input": "hi", "store": False}}),
    "/v1/messages": ("/v1/messages", {"json": {"model": "qwen-plus", "stream": True, "max_tokens": 1024,
                                               "messages": [{"role": "user", "content": "hi"}]}}),
}


def recorded_events(base_url: str) -> list[bytes]:
    """The emulator's long stream as DashScope's SSE events, each with its blank line."""
    host, port = base_url.removeprefix("http://").split("/")[0].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    body = json.dumps({"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": LONG_STREAM}]},
                       "parameters": {"result_format": "message", "incremental_output": True}})
    connection.request("POST", "/api/v1/services/aigc/text-generation/generation", body,
                       {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", "X-DashScope-SSE": "enable"})
    data = connection.getresponse().read()
    return [event + b"\n\n" for event in data.split(b"\n\n") if event.strip()]


class _Replay(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while True:  # keep-alive: one recorded stream per request
            line, length = self.rfile.readline(), 0
            if not line:
                return
            while line not in (b"\r\n", b"\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                line = self.rfile.readline()
            self.rfile.read(length)
            self.wfile.write(self.server.stream)  # type: ignore[attr-defined]


def replay_server(events: list[bytes]) -> str:
    """A server answering every request with the recorded stream, written at once; its base URL."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Replay)
    server.daemon_threads = True
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n"
    server.stream = head + b"".join(b"%x\r\n%s\r\n" % (len(event), event) for event in events) + b"0\r\n\r\n"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/api/v1"


def cpu_us_per(work: Callable[[], int], repeats: int) -> float:
    """CPU microseconds per item (work returns how many it handled), over `repeats` runs."""
    started, items = time.process_time(), 0
    for _ in range(repeats):
        items += work()
    return (time.process_time() - started) / items * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()
    rounds, repeats = (1, 1) if options.quick else (5, 4)
    with running_emulator() as emulator_url:
        events = recorded_events(emulator_url)
    base_url = replay_server(events)
    os.environ.update(DASHSCOPE_API_KEY=KEY, DASHSCOPE_HTTP_BASE_URL=base_url, LOG_LEVEL="WARNING", INVOKE_TOKEN=TOKEN)

    import orjson
    import requests

    import core.upstream.sdk as sdk
    from core.upstream.answers import _plain, _plain_copy
    from web.json_output import _COMPACT, compact_json

    session = requests.Session()
    stream_url = f"{base_url}/services/aigc/text-generation/generation"
    asked = {"model": "qwen-plus", "messages": [{"role": "user", "content": "hi"}], "api_key": KEY,
             "base_address": base_url, "result_format": "message", "stream": True, "incremental_output": True}

    def lines() -> int:
        with session.post(stream_url, data=b"{}", stream=True) as response:
            return sum(1 for line in response.iter_lines() if line.startswith(b"data:"))

    def sdk_stream() -> int:  # the SDK as anyone calls it: each event made into its response objects
        return sum(1 for _ in sdk._Generation.call(**asked, session=session))

    def sdk_stream_decoded() -> int:  # the SDK as the function calls it (core/upstream/sdk_stand_ins.py)
        return sum(1 for _ in sdk.Generation.call(**asked, session=session))

    chunks = list(sdk.Generation.call(**asked, session=session))
    real_generation = sdk.Generation

    class ReplayedGeneration:  # the SDK's chunks, handed over again without reading anything
        @staticmethod
        def call(**_kwargs: Any) -> Any:
            return (chunk for chunk in chunks)

    from app import create_app

    client = create_app().test_client()

    def door(path: str, kwargs: dict[str, Any], replayed: bool = True) -> Callable[[], int]:
        def relay() -> int:
            sdk.Generation = ReplayedGeneration if replayed else real_generation
            try:
                response = client.post(path, headers={"Authorization": f"Bearer {TOKEN}"}, buffered=False, **kwargs)
                sent = sum(1 for _ in response.response)
                response.close()
            finally:
                sdk.Generation = real_generation
            assert response.status_code == 200 and sent >= len(chunks), (path, response.status_code, sent)
            return len(chunks)
        return relay

    stock_chunks = list(sdk._Generation.call(**asked, session=session))
    chunk = stock_chunks[len(stock_chunks) // 2]  # the SDK's objects: what the copies below copy
    body = {"output": _plain(chunk.output), "usage": _plain(chunk.usage), "request_id": chunk.request_id}
    many = 2000
    cases: dict[str, Callable[[], int]] = {
        "requests reading the stream's lines": lines,
        "the DashScope SDK consuming the stream": sdk_stream,
        "the DashScope SDK consuming the stream, its answers as decoded": sdk_stream_decoded,
        **{f"the function's own work, {name}": door(path, kwargs) for name, (path, kwargs) in DOORS.items()},
        "one event's body, the standard library's encoder": lambda: [_COMPACT.encode(body) for _ in range(many)] and many,
        "one event's body, orjson (compact_json)": lambda: [compact_json(body) for _ in range(many)] and many,
        "a chunk copied to plain dicts in Python": lambda: [_plain_copy(chunk.output) for _ in range(many)] and many,
        "a chunk copied by an orjson round trip": lambda: [orjson.loads(orjson.dumps(chunk.output)) for _ in range(many)] and many,
    }
    if options.profile:
        relay = door(*DOORS["/invoke"], replayed=False)  # the whole path: the SDK reading, the function relaying
        relay()
        profiler = cProfile.Profile()
        profiler.enable()
        relay()
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(30)
        # The SDK's share: everything under the generator Generation.call returns (its reads, parse, objects).
        in_sdk = sum(entry[3] for (file, _, name), entry in stats.stats.items()  # type: ignore[attr-defined]
                     if file.endswith(os.path.join("dashscope", "aigc", "generation.py")) and name == "<genexpr>")
        print(f"the SDK's share of the relayed stream's CPU: {in_sdk / stats.total_tt:.0%}")  # type: ignore[attr-defined]
        return
    for work in cases.values():  # warm
        work()
    figures: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, work in cases.items():
            figures[name].append(cpu_us_per(work, repeats))
    print(f"| CPU per event, in-process ({len(chunks)}-event stream) | µs |\n|---|---|")
    for name, values in figures.items():
        print(f"| {name} | {min(values):.1f} |")
    print(f"\n_{time.strftime('%Y-%m-%d')}, {machine()}, best of {rounds} rounds{', QUICK RUN' if options.quick else ''}._")


if __name__ == "__main__":
    main()
