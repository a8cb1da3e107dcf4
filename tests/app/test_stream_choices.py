"""A stream of `n` > 1 choices ends when every choice has finished, in DashScope's text format
(packets without a choice index) as in its message format: a complete stream gets no false error
event, a cut one still does."""

from __future__ import annotations

import pytest

from tests.conftest import sse_events

NATIVE = "/api/v1/services/aigc/text-generation/generation"
SSE = {"X-DashScope-SSE": "enable"}


def events_of(client, path, body, headers=None):
    response = client.post(path, json=body, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return sse_events(response.get_data(as_text=True))


@pytest.mark.parametrize("parameters", [{"n": 2}, {"n": 2, "incremental_output": True}, {"n": 3, "result_format": "text"}])
def test_a_complete_text_format_stream_of_several_choices_ends_without_an_error(client, parameters):
    body = {"model": "qwen-plus", "input": {"prompt": "one two three"}, "parameters": parameters}
    events = events_of(client, NATIVE, body, SSE)
    assert [event for event, _ in events if event != "result"] == []
    finished = [data for _, data in events if data["output"].get("finish_reason") not in (None, "null")]
    assert len(finished) == parameters["n"]


@pytest.mark.parametrize("path, body, headers", [
    (NATIVE, {"model": "qwen-plus", "input": {"prompt": "one two"}, "parameters": {"n": 2, "result_format": "message"}}, SSE),
    ("/invoke", {"model": "qwen-plus", "messages": [{"role": "user", "content": "one two"}], "n": 2, "stream": True}, None),
    ("/invoke", {"model": "qwen-plus", "prompt": "one two", "n": 2, "stream": True}, None),
])
def test_a_complete_stream_of_several_choices_ends_without_an_error_on_every_door(client, path, body, headers):
    events = events_of(client, path, body, headers)
    assert [event for event, _ in events if event != "result"] == []


def test_a_text_format_stream_of_several_choices_cut_off_still_ends_with_an_error(client):
    body = {"model": "qwen-plus", "input": {"prompt": "a b c d e f g h [[emulate cut_after=2]]"}, "parameters": {"n": 2}}
    events = events_of(client, NATIVE, body, SSE)
    assert events[-1][0] == "error" and events[-1][1]["code"] == "UpstreamStreamIncomplete"
