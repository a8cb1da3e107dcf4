"""handlers/openai/chat_request.py without a server: an OpenAI Chat Completions body -> the call to make
(parse_chat_request), and DashScope results -> OpenAI objects (chat_completion, chat_chunks)."""

from __future__ import annotations

import pytest

from core.config import Config
from core.errors import InvalidRequest
from handlers.openai.answers import chat_chunks, chat_completion
from handlers.openai.chat_request import parse_chat_request
from core.types import Completion

CONFIG = Config(default_model="qwen-plus")
HELLO = [{"role": "user", "content": "hello"}]


def refused(body: dict) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        parse_chat_request(body, CONFIG)
    assert raised.value.status == 400
    return raised.value


def test_fields_are_mapped_to_a_dashscope_call():
    request = parse_chat_request(
        {
            "model": "qwen-max",
            "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],
            "temperature": 0.5,
            "top_k": 40,
            "user": "end-user-17",
            "n": 1,
            "seed": None,
        },
        CONFIG,
    )
    assert request.call.model == "qwen-max"
    assert request.call.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "a\nb"}]
    # Shared and DashScope-only fields pass; the neutral `n`, nulls and the end user do not.
    assert request.call.parameters == {"temperature": 0.5, "top_k": 40, "result_format": "message"}
    assert request.end_user == "end-user-17" and not request.stream and not request.include_usage
    assert request.log_fields() == {"door": "openai", "model": "qwen-max", "stream": False, "user": "end-user-17"}


def test_the_default_model_and_stream_defaults():
    request = parse_chat_request({"messages": HELLO, "stream": True}, CONFIG)
    assert request.call.model == "qwen-plus" and request.stream
    assert request.call.parameters == {"result_format": "message", "incremental_output": True}


def test_a_tool_message_gets_its_functions_name():
    calls = [{"id": "call-1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]
    messages = [*HELLO, {"role": "assistant", "content": None, "tool_calls": calls}, {"role": "tool", "tool_call_id": "call-1", "content": "sunny"}]
    sent = parse_chat_request({"messages": messages}, CONFIG).call.messages
    assert sent[1]["content"] == "" and sent[2]["name"] == "get_weather"


@pytest.mark.parametrize(
    "body, param",
    [
        ({"messages": "hi"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": ["hi"]}, "messages[0]"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "messages[0].content[0]"),
        ({"messages": HELLO, "model": ""}, "model"),
        ({"messages": HELLO, "stream": "yes"}, "stream"),
        ({"messages": HELLO, "stream": True, "stream_options": {"include_usage": "yes"}}, "stream_options"),
        ({"messages": HELLO, "user": 7}, "user"),
        ({"messages": HELLO, "n": True}, "n"),
        ({"messages": HELLO, "functions": [{"name": "f"}]}, "functions"),
        ({"messages": HELLO, "result_format": "text"}, "result_format"),
        ({"messages": HELLO, "stream": True, "incremental_output": False}, "incremental_output"),
        ({"messages": HELLO, "tool_choice": "anything"}, "tool_choice"),
    ],
)
def test_bad_requests_name_the_param(body, param):
    assert refused(body).param == param


@pytest.mark.parametrize(
    "field, value, advice",
    [("frequency_penalty", 0.5, "presence_penalty"), ("functions", [{"name": "f"}], "use `tools`")],
)
def test_unsupported_fields_are_refused_saying_what_to_do_instead(field, value, advice):
    error = refused({"messages": HELLO, field: value})
    assert error.param == field and f"`{field}`" in error.message and advice in error.message


def test_stream_options_rules():
    assert refused({"messages": HELLO, "stream_options": {"include_usage": True}}).param == "stream_options"
    assert refused({"messages": HELLO, "stream": True, "stream_options": "usage"}).param == "stream_options"
    assert parse_chat_request({"messages": HELLO, "stream": True, "stream_options": {"include_usage": True}}, CONFIG).include_usage
    assert not parse_chat_request({"messages": HELLO, "stream": True, "stream_options": {}}, CONFIG).include_usage


def test_a_native_body_is_pointed_to_invoke():
    error = refused({"model": "qwen-plus", "input": {"messages": HELLO}, "parameters": {}})
    assert "POST /invoke" in error.message and error.param == "input"


@pytest.mark.parametrize("given, sent", [({"max_tokens": 9}, 9), ({"max_completion_tokens": 7}, 7), ({"max_tokens": 7, "max_completion_tokens": 7}, 7)])
def test_max_completion_tokens_is_max_tokens(given, sent):
    parameters = parse_chat_request({"messages": HELLO, **given}, CONFIG).call.parameters
    assert parameters["max_tokens"] == sent and "max_completion_tokens" not in parameters


def test_max_tokens_and_max_completion_tokens_must_agree():
    error = refused({"messages": HELLO, "max_tokens": 10, "max_completion_tokens": 20})
    assert error.param == "max_completion_tokens" and "disagree" in error.message


def test_a_body_that_is_not_an_object_is_refused():
    assert "JSON object" in refused(["hi"]).message  # type: ignore[arg-type]


# -- results -> OpenAI objects ------------------------------------------------------------------


def result(content=None, finish="null", tool_calls=None, usage=None, request_id="req-1") -> Completion:
    message = {"role": "assistant", "content": content} | ({"tool_calls": tool_calls} if tool_calls else {})
    return Completion(request_id, {"choices": [{"finish_reason": finish, "message": message}]}, usage or {})


def test_chat_completion():
    completion = chat_completion(result("hi there", "stop", usage={"input_tokens": 3, "output_tokens": 2}), "qwen-plus")
    assert completion["id"] == "chatcmpl-req-1" and completion["object"] == "chat.completion" and completion["model"] == "qwen-plus"
    assert completion["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "hi there"}, "finish_reason": "stop", "logprobs": None}]
    assert completion["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_chat_completion_with_tool_calls_has_null_content():
    calls = [{"id": "call-1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    message = chat_completion(result("", "tool_calls", tool_calls=calls), "qwen-plus")["choices"][0]["message"]
    assert message == {"role": "assistant", "content": None, "tool_calls": calls}


def test_chunks_role_first_then_deltas_then_finish():
    upstream = [result("one "), result("two"), result(None, "stop", usage={"input_tokens": 1, "output_tokens": 2})]
    chunks = list(chat_chunks(iter(upstream), "qwen-plus", include_usage=False))
    assert {c["id"] for c in chunks} == {"chatcmpl-req-1"} and {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert [c["choices"][0]["delta"] for c in chunks] == [{"role": "assistant", "content": ""}, {"content": "one "}, {"content": "two"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, "stop"]
    assert all("usage" not in c for c in chunks)


def test_tool_call_deltas_carry_their_index():
    calls = [{"id": "call-1", "type": "function", "function": {"name": "f", "arguments": ""}}, {"index": 5, "id": "call-2", "function": {"name": "g"}}]
    chunks = list(chat_chunks(iter([result(tool_calls=calls), result(None, "tool_calls")]), "qwen-plus", include_usage=False))
    deltas = chunks[1]["choices"][0]["delta"]["tool_calls"]
    assert [(d["index"], d["id"], d["type"]) for d in deltas] == [(0, "call-1", "function"), (5, "call-2", "function")]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_a_usage_only_chunk_ends_the_stream_when_asked():
    upstream = [result("a"), result("b", "stop", usage={"input_tokens": 4, "output_tokens": 2, "total_tokens": 6})]
    *rest, last = chat_chunks(iter(upstream), "qwen-plus", include_usage=True)
    assert last["choices"] == [] and last["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    assert rest[-1]["choices"][0]["finish_reason"] == "stop"
