"""The function served as FC serves it: s.yaml's command, gunicorn, a real socket."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import event_bytes, sse_events

pytestmark = pytest.mark.server

UPSTREAM_LATENCY_S = 2.0
CONCURRENT_CALLS = 64


def test_console_test_event_over_a_socket(server):
    # Exactly what FC sends for a console test: POST /invoke, the event as octet-stream.
    response = requests.post(
        f"{server}/invoke",
        data=event_bytes("raw-text.txt"),
        headers={"Content-Type": "application/octet-stream", "x-fc-request-id": "1-console-test"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "1-console-test"
    body = response.json()
    assert set(body) == {"status_code", "request_id", "code", "message", "output", "usage"}
    assert "如何做西红柿炖牛腩?" in body["output"]["choices"][0]["message"]["content"]


def test_lifecycle_hooks_over_a_socket(server):
    assert requests.post(f"{server}/initialize", timeout=10).status_code == 200
    assert requests.get(f"{server}/pre-stop", timeout=10).status_code == 200


def test_stream_over_a_socket_arrives_event_by_event(server):
    started = time.monotonic()
    arrivals = []
    with requests.post(
        f"{server}/invoke?stream=true",
        data="a b c d e f g h i j k l [[emulate chunk_delay=0.3]]",
        stream=True,
        timeout=30,
    ) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = ""
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("data:"):
                arrivals.append(time.monotonic() - started)
            text += line + "\n" if line else "\n"
    events = sse_events(text)
    assert events[-1][1]["output"]["choices"][0]["finish_reason"] == "stop"
    # Not buffered: the first event arrived well before the last was produced.
    assert arrivals[-1] - arrivals[0] > 0.5


def test_html_never_comes_back(server):
    for response in (
        requests.get(f"{server}/nope", timeout=10),
        requests.get(f"{server}/invoke", timeout=10),
        requests.post(f"{server}/invoke", data=b"", timeout=10),
    ):
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"]


def _slow_call(server: str, index: int) -> float:
    directive = f"[[emulate delay={UPSTREAM_LATENCY_S}]]"
    started = time.monotonic()
    if index % 2:
        with requests.post(f"{server}/invoke?stream=true", data=f"call {index} {directive}", stream=True, timeout=60) as r:
            assert r.status_code == 200
            body = r.text
        assert "event:error" not in body and '"finish_reason":"stop"' in body
    else:
        r = requests.post(f"{server}/invoke", data=f"call {index} {directive}", timeout=60)
        assert r.status_code == 200, r.text
    return time.monotonic() - started


def test_64_concurrent_slow_calls_do_not_queue(server):
    """Each call waits 2 s on the upstream; if the instance carried fewer than 64 at once, some would
    wait for a free slot and the batch would take at least two upstream latencies."""
    # Steady state is what is measured here: one call first opens the pool and loads what loads lazily.
    assert requests.post(f"{server}/invoke", data="warm up", timeout=30).status_code == 200
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENT_CALLS) as pool:
        durations = list(pool.map(lambda i: _slow_call(server, i), range(CONCURRENT_CALLS)))
    elapsed = time.monotonic() - started

    assert len(durations) == CONCURRENT_CALLS
    assert elapsed < 1.6 * UPSTREAM_LATENCY_S, f"64 calls took {elapsed:.2f}s for a {UPSTREAM_LATENCY_S}s upstream"
