"""The many-streams row: `Settings.many_streams` streams at once (200: FC3 sends an instance up to 200
calls at once, and 200 with session affinity), each `Settings.many_stream_s` seconds long (an event every
100 ms), on one instance of each server: the function (as s.yaml starts it, with a MAX_IN_FLIGHT that
admits them all), each peer, and the DashScope SDK calling the emulator directly from as many threads.

For each: how many streams finished whole (status 200, every event's text, the finish_reason, and for
the OpenAI-shaped doors `[DONE]`), each one's first event, the time until the last one finished, and for
a server its resident memory at its peak (sampled every 100 ms, the whole process tree) and its CPU
seconds over the row (utime + stime from /proc, as load.py reads them). Each server is started fresh for
the row and warmed with one short stream, so its memory and CPU are the row's and not what earlier rows
left. The gateways are called on /v1/chat/completions with http.client, one connection per stream (as
many as FC's front end would open), all released at once by a barrier.

One instance is one core here, s.yaml's `cpu: 1`: on a machine of two cores or more, each server runs on
a core of its own (the last), and the emulator and the client on the others, so that the server gets a
whole core, as on FC, and never shares it with the load it is measured under. The direct SDK is treated
alike: its threads are the ones on that core. Unpinned, on two cores, the server, the emulator and the
client fought over both: the same function's first event p99 ranged from 4 to 13 s between runs.

    python scripts/benchmark/many_streams.py                  # this row alone: function and direct SDK
    python scripts/benchmark/many_streams.py --peer portkey   # ... and a peer (--peer twice for both)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.benchmark.callers import Callers
from scripts.benchmark.common import GATEWAY_TOKEN, MANY_STREAMS_EVENT_S, ManyStreams, Results, Settings
from scripts.benchmark.peers import PEERS
from scripts.benchmark.servers import cpu_seconds, emulator_process, fc_settings, start_floor, start_function
from scripts.fc_process import free_port, process_tree, rss_mb, stop

SAMPLE_S = 0.1
T = TypeVar("T")
Outcome = tuple[float, float, "float | None", bool]  # started, ended (perf_counter), first event after start, whole


@dataclass(frozen=True)
class Server:
    start: Callable[[], "tuple[object, str]"]  # a fresh one: (its process, its URL)
    path: str
    headers: dict[str, str]
    body: str = "openai"  # what it is sent and answers: OpenAI's chat completions, or "relay" (floor_app.py)


def stream_text(settings: Settings) -> tuple[str, str]:
    """The reply every stream carries, and the message that asks the emulator for it at a model's pace
    (it sends three words an event)."""
    # Every word differs (common.LONG_STREAM says why: LiteLLM cuts a stream of identical chunks).
    reply = " ".join(f"w{n:04d}" for n in range(3 * settings.many_stream_events))
    return reply, f'[[emulate reply="{reply}" chunk_delay={MANY_STREAMS_EVENT_S:g}]]'


def row_servers(settings: Settings, base_url: str, compatible_url: str, scratch: Path) -> tuple[dict[str, Server], int]:
    """The servers of the row, each started when its turn comes; and the function's MAX_IN_FLIGHT:
    s.yaml's, raised to the row's streams if lower (the row asks what the instance holds, not where
    the shipped limit stands)."""
    max_in_flight = max(settings.many_streams, int(fc_settings().get("MAX_IN_FLIGHT", 0)))
    servers = {"function": Server(lambda: start_function(base_url, {"MAX_IN_FLIGHT": str(max_in_flight)}),
                                  "/v1/chat/completions", {}),
               # The SDK relay floor: the SDK's stream relayed and nothing else, what a plain gateway
               # calling the SDK as documented spends per event (its events are the SDK's output: no [DONE]).
               "relay": Server(lambda: start_floor(base_url), "/relay-stream", {}, "relay")}
    for name in settings.peers:
        peer = PEERS[name]
        servers[name] = Server(lambda peer=peer: peer.start(compatible_url, scratch), peer.path, peer.headers(compatible_url))
    return servers, max_in_flight


def _delta(server: Server, event: dict) -> tuple[str, str | None]:
    """An event's new text and finish_reason: OpenAI's chunk, or the relay floor's SDK output."""
    if server.body == "relay":
        choice = event["output"]["choices"][0]
        return choice["message"].get("content") or "", choice.get("finish_reason")
    choices = event.get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or "", choices[0].get("finish_reason")


def gateway_stream(url: str, server: Server, body: bytes, reply: str) -> Outcome:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {GATEWAY_TOKEN}", **server.headers}
    started, first, parts, finish, done = time.perf_counter(), None, [], None, server.body == "relay"
    try:
        connection.request("POST", server.path, body=body, headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            response.read()
            return started, time.perf_counter(), None, False
        for line in iter(response.readline, b""):
            if not line.startswith(b"data:"):
                continue
            first = first or time.perf_counter() - started
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
                continue
            text, finished = _delta(server, json.loads(data))
            parts.append(text)
            finish = finished or finish
    except (OSError, http.client.HTTPException, ValueError):
        return started, time.perf_counter(), first, False
    finally:
        connection.close()
    return started, time.perf_counter(), first, done and finish == "stop" and "".join(parts) == reply


def _direct_stream(callers: Callers, text: str, reply: str) -> Outcome:
    started, first, parts, finish = time.perf_counter(), None, [], None
    try:
        for chunk in callers.sdk_stream(text):
            first = first or time.perf_counter() - started
            if chunk.status_code != 200:
                return started, time.perf_counter(), first, False
            choice = chunk.output["choices"][0]
            parts.append(choice["message"].get("content") or "")
            finish = choice.get("finish_reason") or finish
    except Exception:  # noqa: BLE001 - whatever the SDK raises, the stream did not finish
        return started, time.perf_counter(), first, False
    return started, time.perf_counter(), first, finish == "stop" and "".join(parts) == reply


def pin(pid: int, cores: set[int]) -> None:
    """Every thread of a process tree on `cores` (a thread's affinity is its own; new ones inherit it)."""
    for member in process_tree(pid):
        for task in Path(f"/proc/{member}/task").iterdir():
            try:
                os.sched_setaffinity(int(task.name), cores)
            except OSError:  # a thread that has ended meanwhile
                pass


def instance_core() -> tuple[set[int], set[int]] | None:
    """The core of the instance (the last), and the rest for the emulator and the client; None on one core."""
    cores = sorted(os.sched_getaffinity(0))
    return ({cores[-1]}, set(cores[:-1])) if len(cores) > 1 else None


def _on(cores: set[int] | None, run: Callable[[], T]) -> T:
    """`run` from this thread pinned to `cores` (what it starts inherits them), then back to the rest."""
    if cores is None:
        return run()
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        return run()
    finally:
        os.sched_setaffinity(0, before)


def at_once(count: int, one: Callable[[], Outcome]) -> list[Outcome]:
    """`count` calls of `one`, each on a thread of its own, released together."""
    barrier = threading.Barrier(count)
    outcomes: list[Outcome] = []

    def run() -> None:
        barrier.wait()
        outcome = one()
        outcomes.append(outcome)  # list.append is atomic

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _summary(outcomes: list[Outcome]) -> ManyStreams:
    return ManyStreams(finished=sum(whole for *_, whole in outcomes),
                       first_event_s=[first for _, _, first, _ in outcomes if first is not None],
                       all_done_s=max(end for _, end, _, _ in outcomes) - min(start for start, *_ in outcomes))


def _on_server(settings: Settings, server: Server, body: bytes, warm_body: bytes, reply: str,
               core: set[int] | None) -> ManyStreams:
    process, url = _on(core, server.start)
    pid = process.pid  # type: ignore[attr-defined]
    try:
        gateway_stream(url, server, warm_body, "")  # imports and first buffers: not the row's
        time.sleep(0.5)
        peak, running = [rss_mb(pid)], threading.Event()
        running.set()

        def sample() -> None:
            while running.is_set():
                try:
                    peak[0] = max(peak[0], rss_mb(pid))
                except (OSError, ValueError):  # a process of the tree went away between reads
                    pass
                time.sleep(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        cpu_before = cpu_seconds(pid)
        sampler.start()
        outcomes = at_once(settings.many_streams, lambda: gateway_stream(url, server, body, reply))
        cpu = cpu_seconds(pid) - cpu_before
        running.clear()
        sampler.join()
        row = _summary(outcomes)
        row.rss_peak_mb, row.cpu_s = max(peak[0], rss_mb(pid)), cpu
        return row
    finally:
        stop(process)  # type: ignore[arg-type]


def _body(server: Server, model: str, text: str) -> bytes:
    if server.body == "relay":  # the relay floor takes the text and calls qwen-plus itself
        return text.encode()
    return json.dumps({"model": model, "messages": [{"role": "user", "content": text}], "stream": True}).encode()


def measure_many_streams(settings: Settings, callers: Callers, servers: dict[str, Server], results: Results,
                         emulator_pid: int) -> None:
    """The direct SDK first (its CPU: this process's, the SDK consuming the streams itself), then each
    server in `servers` (row_servers), one after the other; each on a core of its own (instance_core)."""
    reply, text = stream_text(settings)
    callers.first_event("direct", "warm up")
    split = instance_core()
    core, rest = split or (None, None)
    emulator_cores, own_cores = os.sched_getaffinity(emulator_pid), os.sched_getaffinity(0)
    try:
        if rest is not None:
            pin(emulator_pid, rest)
            os.sched_setaffinity(0, rest)
        cpu_before = time.process_time()
        outcomes = _on(core, lambda: at_once(settings.many_streams, lambda: _direct_stream(callers, text, reply)))
        results.many_streams["direct"] = _summary(outcomes)
        results.many_streams["direct"].cpu_s = time.process_time() - cpu_before
        for name, server in servers.items():
            body, warm = _body(server, callers.model, text), _body(server, callers.model, "warm up")
            results.many_streams[name] = _on_server(settings, server, body, warm, reply, core)
    finally:
        pin(emulator_pid, emulator_cores)
        os.sched_setaffinity(0, own_cores)


def main() -> None:
    """This row alone, the servers started as run.py starts them."""
    from scripts.benchmark.report import many_streams_rows, render

    parser = argparse.ArgumentParser(description="the many-streams row of the benchmark, alone")
    parser.add_argument("--peer", choices=PEERS, action="append", default=[])
    parser.add_argument("--streams", type=int, default=Settings.many_streams)
    parser.add_argument("--seconds", type=float, default=Settings.many_stream_s)
    options = parser.parse_args()
    settings = Settings(many_streams=options.streams, many_stream_s=options.seconds, peers=tuple(dict.fromkeys(options.peer)))
    for name in settings.peers:
        PEERS[name].install()
    results, port = Results(), free_port()
    emulator = emulator_process(port)
    base_url, compatible_url = f"http://127.0.0.1:{port}/api/v1", f"http://127.0.0.1:{port}/compatible-mode/v1"
    try:
        with tempfile.TemporaryDirectory() as scratch:
            servers, results.many_streams_max_in_flight = row_servers(settings, base_url, compatible_url, Path(scratch))
            measure_many_streams(settings, Callers({}, base_url), servers, results, emulator.pid)
    finally:
        stop(emulator)
    table, met = render(settings, many_streams_rows(settings, results))
    print(table)
    print(f"targets met: {sum(met)} of {len(met)}")


if __name__ == "__main__":
    main()
