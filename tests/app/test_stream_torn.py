"""A DashScope stream that breaks inside an event (the body ends, or the connection drops, halfway
through it) is DashScope's failure, never the caller's: a 502 `UpstreamStreamIncomplete` on every
door, never retried, whether the stream was the caller's or the function's own (an answer assembled
from a stream, for a model that must stream); once the stream has started, its error event."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import sse_events

NATIVE = "/api/v1/services/aigc/text-generation/generation"
NATIVE_MULTIMODAL = "/api/v1/services/aigc/multimodal-generation/generation"
DOORS = ["invoke", "openai", "native"]


def request(door: str, model: str, text: str, stream: bool) -> dict:
    messages = [{"role": "user", "content": text}]
    if door == "invoke":
        return {"path": "/invoke", "json": {"messages": messages, "model": model, "stream": stream}}
    if door == "openai":
        return {"path": "/v1/chat/completions", "json": {"model": model, "messages": messages, "stream": stream}}
    path = NATIVE_MULTIMODAL if model.startswith("qwen3.6") else NATIVE
    return {"path": path, "json": {"model": model, "input": {"messages": messages}},
            "headers": {"X-DashScope-SSE": "enable"} if stream else {}}


def error_of(door: str, body: dict) -> dict:
    return body["error"] if door == "openai" else body


def calls_carrying(emulator, marker: str) -> int:
    return sum(marker in json.dumps(seen["body"]) for seen in emulator.history)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("directive", ["torn=1", "cut_inside=1"])
@pytest.mark.parametrize("model, stream", [
    ("qwen-plus", True),         # the caller's stream, broken inside its first event
    ("qwen3.6-plus", False),     # an answer the function assembles from a stream (the model thinks: it must stream)
])
def test_a_stream_broken_inside_its_first_event_is_a_502(client, emulator, door, directive, model, stream):
    marker = uuid.uuid4().hex
    response = client.post(**request(door, model, f"{marker} one two three [[emulate {directive}]]", stream))
    assert response.status_code == 502, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = error_of(door, response.get_json())
    assert error["code"] == "UpstreamStreamIncomplete"
    if door == "openai":
        assert error["type"] != "invalid_request_error"
    assert calls_carrying(emulator, marker) == 1  # never retried: the model may have generated already


@pytest.mark.parametrize("door", DOORS)
def test_a_stream_torn_inside_a_later_event_ends_with_a_502_error_event(client, door):
    response = client.post(**request(door, "qwen-plus", "one two three four five six [[emulate torn=2]]", True))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    if door == "openai":
        assert '"code":"UpstreamStreamIncomplete"' in body and "invalid_request_error" not in body
        return
    events = sse_events(body)
    assert [event for event, _ in events] == ["result", "error"]
    assert events[-1][1]["code"] == "UpstreamStreamIncomplete" and ":HTTP_STATUS/502" in body
