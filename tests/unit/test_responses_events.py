"""The Responses event sequence made from DashScope's incremental chunks: the order of the events, the
items they build, the final Response and its usage, incomplete answers, and a failure mid-stream."""

from __future__ import annotations

import json

from core.config import Config
from core.errors import UpstreamStreamIncomplete
from core.models import ModelRules
from core.types import Completion
from handlers.responses.events import ResponseEvents
from handlers.responses.parsing import parse_responses_request

CONFIG = Config(dashscope_api_key="sk-test")


def parsed(**body):
    return parse_responses_request({"model": "qwen-plus", "input": "hi", "stream": True, **body}, CONFIG,
                                   ModelRules.from_config(CONFIG))


def chunk(finish="null", usage=None, **message):
    return Completion("req-1", {"choices": [{"finish_reason": finish, "message": {"role": "assistant", **message}}]},
                      usage or {})


def read(text: str) -> list[dict]:
    events = []
    for block in text.strip().split("\n\n"):
        kind, data = block.split("\n")
        event = json.loads(data.removeprefix("data: "))
        assert kind == f"event: {event['type']}"
        events.append(event)
    return events


def run(chunks, **body):
    kept = []
    events = read("".join(ResponseEvents(parsed(**body), kept.append).events(iter(chunks))))
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    return events, kept


def test_reasoning_then_text_then_a_function_call():
    usage = {"input_tokens": 5, "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 3},
             "prompt_tokens_details": {"cached_tokens": 4}}
    events, kept = run([
        chunk(content="", reasoning_content="think "),
        chunk(content="", reasoning_content="more"),
        chunk(content="Hel"),
        chunk(content="lo"),
        chunk(content="", tool_calls=[{"index": 0, "id": "call_1", "type": "function",
                                       "function": {"name": "f", "arguments": "{\"a\""}}]),
        chunk(content="", tool_calls=[{"index": 0, "function": {"arguments": ": 1}"}}]),
        chunk(finish="tool_calls", usage=usage, content=""),
    ])
    assert [event["type"].removeprefix("response.") for event in events] == [
        "created", "in_progress",
        "output_item.added", "reasoning_summary_part.added", "reasoning_summary_text.delta",
        "reasoning_summary_text.delta", "reasoning_summary_text.done", "reasoning_summary_part.done", "output_item.done",
        "output_item.added", "content_part.added", "output_text.delta", "output_text.delta", "output_text.done",
        "content_part.done", "output_item.done",
        "output_item.added", "function_call_arguments.delta", "function_call_arguments.delta",
        "function_call_arguments.done", "output_item.done",
        "completed",
    ]
    final = events[-1]["response"]
    reasoning, message, call = final["output"]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "think more"}]
    assert message["content"][0]["text"] == "Hello" and message["status"] == "completed"
    assert (call["call_id"], call["name"], call["arguments"]) == ("call_1", "f", "{\"a\": 1}")
    assert [event["output_index"] for event in events if event["type"] == "response.output_item.added"] == [0, 1, 2]
    assert final["status"] == "completed" and final["usage"] == {
        "input_tokens": 5, "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0}, "output_tokens": 9,
        "output_tokens_details": {"reasoning_tokens": 3}, "total_tokens": 14}
    assert kept == [final]  # kept (store) before response.completed went out
    assert events[0]["response"]["id"] == final["id"] and events[0]["response"]["status"] == "in_progress"


def test_a_cut_answer_is_incomplete():
    events, _ = run([chunk(content="Hel"), chunk(finish="length", content="lo")], max_output_tokens=2)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["status"] == "incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_a_failure_mid_stream_is_response_failed_with_the_output_so_far():
    stream = ResponseEvents(parsed(), lambda response: None)

    def chunks():
        yield chunk(content="Hel")
        raise UpstreamStreamIncomplete()

    sent = []
    try:
        for event in stream.events(chunks()):
            sent.append(event)
    except UpstreamStreamIncomplete as error:
        sent.append(stream.error_event(error))
    failed = read("".join(sent))[-1]
    assert failed["type"] == "response.failed" and failed["response"]["status"] == "failed"
    assert failed["response"]["error"]["message"]
    assert failed["sequence_number"] == len(sent) - 1
