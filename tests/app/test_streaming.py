"""Streaming: incremental DashScope-shaped events, the final finish_reason and usage, and errors
that arrive once the stream has started always ending it with an `event:error`."""

from __future__ import annotations

import pytest

from tests.conftest import event_json, sse_events

MESSAGES = [{"role": "user", "content": "one two three four five six seven eight"}]


def stream(client, path="/invoke", **kwargs):
    response = client.post(path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return response, sse_events(response.get_data(as_text=True))


def message_text(data: dict) -> str:
    return data["output"]["choices"][0]["message"]["content"]


def test_stream_is_incremental_and_ends_with_finish_and_usage(client, emulator):
    full = client.post("/invoke", json={"messages": MESSAGES}).get_json()
    response, events = stream(client, json={"messages": MESSAGES, "stream": True})

    assert response.headers["Cache-Control"] == "no-cache"
    assert len(events) > 3
    assert all(event == "result" for event, _ in events)
    pieces = [message_text(data) for _, data in events]
    # Each event carries only the new text: together they are the whole answer, once.
    assert "".join(pieces) == message_text(full)
    assert all(pieces) and len(set(pieces)) > 1
    *middle, (_, last) = events
    assert [message_text(d) for _, d in middle] == pieces[:-1]
    assert all(d["output"]["choices"][0]["finish_reason"] in ("null", None) for _, d in middle)
    assert last["output"]["choices"][0]["finish_reason"] == "stop"
    assert last["usage"] == full["usage"]
    assert {d["status_code"] for _, d in events} == {200}
    assert emulator.last_request()["body"]["parameters"]["incremental_output"] is True
    assert emulator.last_request()["stream"] is True


def test_events_use_dashscope_wire_format(client):
    response = client.post("/invoke", json={"prompt": "hi", "stream": True})
    first_block = response.get_data(as_text=True).split("\n\n")[0].splitlines()
    assert first_block[0] == "id:1"
    assert first_block[1] == "event:result"
    assert first_block[-1].startswith("data:{")


def test_prompt_mode_stream_carries_text(client):
    _, events = stream(client, path="/invoke/prompt?stream=true", data="one two three four five six seven")
    texts = [data["output"]["text"] for _, data in events]
    assert "".join(texts).endswith("one two three four five six seven")
    assert events[-1][1]["output"]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    "how",
    [
        {"query_string": {"stream": "true"}},
        {"headers": {"Accept": "text/event-stream"}},
        {"headers": {"X-DashScope-SSE": "enable"}},
    ],
)
def test_stream_can_be_asked_for_outside_the_body(client, how):
    stream(client, data="hello there", **how)


def test_without_a_stream_flag_the_answer_is_json(client):
    response = client.post("/invoke?stream=false", data="hello")
    assert response.mimetype == "application/json"


def test_native_body_streams(client, emulator):
    _, events = stream(client, json={**event_json("native.json"), "stream": True})
    assert events[-1][1]["output"]["choices"][0]["finish_reason"] == "stop"
    native = event_json("native.json")
    _, events = stream(client, json={**native, "parameters": {**native["parameters"], "stream": True}})
    assert "stream" not in emulator.last_request()["body"]["parameters"]


def test_cumulative_output_when_the_caller_asks_for_it(client):
    _, events = stream(client, json={"messages": MESSAGES, "stream": True, "incremental_output": False})
    texts = [message_text(data) for _, data in events]
    # The SDK turns DashScope's increments back into the growing text the caller asked for.
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))


def test_length_finish_reason(client):
    _, events = stream(client, json={"messages": MESSAGES, "stream": True, "max_tokens": 4})
    assert events[-1][1]["output"]["choices"][0]["finish_reason"] == "length"


def test_tool_call_stream_ends_with_tool_calls(client):
    event = event_json("tool-round-trip.json")
    _, events = stream(client, json={"messages": event["messages"][:1], "tools": event["tools"], "stream": True})
    last = events[-1][1]["output"]["choices"][0]
    assert last["finish_reason"] == "tool_calls"
    assert last["message"]["tool_calls"][0]["function"]["name"] == "get_current_weather"


def test_error_mid_stream_is_an_error_event(client, emulator):
    body = {"messages": [{"role": "user", "content": "a b c d e f g h i j [[emulate fail_after=2 code=DataInspectionFailed message=\"Output data may contain inappropriate content.\"]]"}], "stream": True}
    _, events = stream(client, json=body)

    assert [event for event, _ in events] == ["result", "result", "error"]
    error = events[-1][1]
    assert error["code"] == "DataInspectionFailed"
    assert error["message"] == "Output data may contain inappropriate content."
    assert error["request_id"] == emulator.last_request()["request_id"]
    assert error["status_code"] == 400


def test_throttling_mid_stream_keeps_its_429(client):
    _, events = stream(client, json={"prompt": "a b c d e f g h [[emulate fail_after=1 code=Throttling.RateQuota]]", "stream": True})
    assert events[-1][0] == "error"
    assert events[-1][1]["status_code"] == 429


@pytest.mark.parametrize("directive", ["cut_after=2", "end_after=2"])
def test_a_stream_cut_off_upstream_ends_with_an_error_event(client, directive):
    _, events = stream(client, json={"prompt": f"a b c d e f g h i j k l [[emulate {directive}]]", "stream": True})

    assert [event for event, _ in events] == ["result", "result", "error"]
    assert events[-1][1]["code"] == "UpstreamStreamIncomplete"
    assert events[-1][1]["status_code"] == 502


def test_silence_mid_stream_past_the_timeout_is_an_error_event(config):
    import dataclasses

    from app import create_app

    client = create_app(dataclasses.replace(config, upstream_timeout_s=0.5)).test_client()
    _, events = stream(client, json={"prompt": "a b c d e f g h [[emulate chunk_delay=1.5]]", "stream": True})
    assert events[0][0] == "result"
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "UpstreamTimeout"


def test_an_error_before_the_first_event_is_a_plain_json_error(client):
    response = client.post("/invoke", json={"prompt": "hi [[emulate status=429 code=Throttling.RateQuota]]", "stream": True})
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.get_json()["code"] == "Throttling.RateQuota"


def test_a_bug_mid_stream_still_ends_with_an_error_event(app, client, mocker):
    from web.services import services
    from core.types import Completion

    def broken_stream(call, slot=None):
        yield Completion("rid", {"text": "partial", "finish_reason": "null", "choices": None}, {})
        raise RuntimeError("unexpected")

    with app.app_context():
        mocker.patch.object(services().upstream, "stream", side_effect=broken_stream)
    _, events = stream(client, json={"prompt": "hi", "stream": True})
    assert [event for event, _ in events] == ["result", "error"]
    assert events[-1][1]["code"] == "InternalError"
    assert "unexpected" not in events[-1][1]["message"]


def test_a_stream_past_the_call_deadline_ends_with_a_timeout_event(config):
    """UPSTREAM_TIMEOUT_S is an idle timeout: a stream that trickles under it still stops at
    CALL_DEADLINE_S, with a 504 error event (and /v1 with an error chunk, no [DONE])."""
    import dataclasses
    import time

    from app import create_app

    client = create_app(dataclasses.replace(config, upstream_timeout_s=0.5, call_deadline_s=1.0)).test_client()
    trickle = " ".join(["word"] * 30) + " [[emulate chunk_delay=0.3]]"  # about 5 s read to its end
    started = time.monotonic()
    _, events = stream(client, json={"prompt": trickle, "stream": True})
    assert time.monotonic() - started < 3
    assert [event for event, _ in events][:2] == ["result", "result"]
    assert events[-1][0] == "error"
    assert events[-1][1]["code"] == "CallDeadlineExceeded" and events[-1][1]["status_code"] == 504

    body = client.post("/v1/chat/completions", json={"model": "qwen-flash", "stream": True, "messages": [{"role": "user", "content": trickle}]}).get_data(as_text=True)
    assert '"code":"CallDeadlineExceeded"' in body and "[DONE]" not in body


def test_a_call_past_the_call_deadline_is_a_504(config):
    import dataclasses
    import time

    from app import create_app

    client = create_app(dataclasses.replace(config, call_deadline_s=1.0)).test_client()
    started = time.monotonic()
    response = client.post("/invoke", data="slow [[emulate delay=3]]")
    assert time.monotonic() - started < 2.5
    assert response.status_code == 504
    assert response.get_json()["code"] == "CallDeadlineExceeded"
    assert "CALL_DEADLINE_S" in response.get_json()["message"]
