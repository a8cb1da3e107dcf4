"""CALL_DEADLINE_S holds whatever DashScope does: an upstream that keeps sending bytes (SSE comment
lines, an answer one byte at a time) never trips UPSTREAM_TIMEOUT_S, a socket timeout for one
silence, but the call still ends at its deadline (core/upstream/read_deadline.py): a 504
`CallDeadlineExceeded` before the answer has started, an error event once it has, on every door."""

from __future__ import annotations

import dataclasses
import time

import pytest

from app import create_app
from tests.conftest import sse_events

DEADLINE_S = 2.0
# Past the deadline, the call ends within this (a read looks at the deadline at least every second).
SLACK_S = 1.5
NATIVE = "/api/v1/services/aigc/text-generation/generation"


@pytest.fixture
def client(config):
    return create_app(dataclasses.replace(config, upstream_timeout_s=1.0, call_deadline_s=DEADLINE_S)).test_client()


def request(door: str, text: str, stream: bool) -> dict:
    """The arguments of one call through `door` (the test client's post)."""
    messages = [{"role": "user", "content": text}]
    if door == "invoke":
        return {"path": "/invoke", "json": {"messages": messages, "model": "qwen-plus", "stream": stream}}
    if door == "openai":
        return {"path": "/v1/chat/completions", "json": {"model": "qwen-plus", "messages": messages, "stream": stream}}
    return {"path": NATIVE, "json": {"model": "qwen-plus", "input": {"messages": messages}},
            "headers": {"X-DashScope-SSE": "enable"} if stream else {}}


def timed_post(client, path: str, **kwargs):
    started = time.monotonic()
    response = client.post(path, **kwargs)
    body = response.get_data(as_text=True)
    return response, body, time.monotonic() - started


def error_code(door: str, body: dict) -> str:
    return body["error"]["code"] if door == "openai" else body["code"]


DOORS = ["invoke", "openai", "native"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("directive, stream", [
    ("comment_every=0.2", True),   # nothing but SSE comment lines
    ("trickle=0.05", True),        # the first event, a byte at a time
    ("trickle=0.05", False),       # the JSON answer, a byte at a time
])
def test_an_upstream_that_keeps_sending_bytes_before_the_answer_gets_a_504_at_the_deadline(client, door, directive, stream):
    response, body, took = timed_post(client, **request(door, f"one two three [[emulate {directive}]]", stream))
    assert response.status_code == 504, body[:300]
    assert response.mimetype == "application/json"
    assert error_code(door, response.get_json()) == "CallDeadlineExceeded"
    assert f"{DEADLINE_S:g} s" in body  # the message names the deadline that was kept
    assert DEADLINE_S - 0.2 <= took < DEADLINE_S + SLACK_S, took


@pytest.mark.timeout(60)
@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("directive", ["comment_every=0.2", "trickle=0.05"])
def test_a_stream_that_keeps_sending_bytes_after_its_first_event_ends_with_an_error_event_at_the_deadline(client, door, directive):
    text = " ".join(["word"] * 30) + f" [[emulate {directive} pace_after=1]]"
    response, body, took = timed_post(client, **request(door, text, True))
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert DEADLINE_S - 0.2 <= took < DEADLINE_S + SLACK_S, took
    if door == "openai":
        assert '"code":"CallDeadlineExceeded"' in body and "[DONE]" not in body
        return
    events = sse_events(body)
    assert events[0][0] == "result"
    assert events[-1][0] == "error" and events[-1][1]["code"] == "CallDeadlineExceeded"
    assert ":HTTP_STATUS/504" in body
