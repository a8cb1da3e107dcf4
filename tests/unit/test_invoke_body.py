"""core/dashscope_wire.py without a server: what an /invoke body means (raw text, flat JSON, the
DashScope-native shape), on plain /invoke and on the fixed-mode routes."""

from __future__ import annotations

import json

import pytest

from core.config import Config
from core.errors import InvalidRequest
from handlers.invoke.body import parse_invoke_body, stream_flag

CONFIG = Config(default_model="qwen-plus", system_prompt="Be kind.")


def parse(body, mimetype: str = "application/json", config: Config = CONFIG, **kwargs):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_invoke_body(raw, mimetype, config, **kwargs)


def refused(body, mimetype: str = "application/json", **kwargs) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        parse(body, mimetype, **kwargs)
    assert raised.value.status == 400
    return raised.value


def test_raw_text_in_messages_mode_gets_the_system_prompt():
    request = parse("你好".encode(), "application/octet-stream")
    assert request.mode == "messages" and not request.stream
    assert request.call.model == "qwen-plus"
    assert request.call.messages == [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "你好"}]
    assert request.call.parameters == {"result_format": "message"}


def test_raw_text_in_prompt_mode_asks_for_text():
    request = parse(b"hello", "application/octet-stream", fixed_mode="prompt", stream_requested=True)
    assert request.mode == "prompt" and request.call.prompt == "hello" and request.stream
    assert request.call.parameters == {"result_format": "text", "incremental_output": True}
    assert parse(b"hello", "text/plain", config=Config(invoke_mode="prompt")).call.prompt == "hello"


def test_text_that_only_looks_like_json_is_text():
    assert parse(b'{"question": "what is JSON?"}', "application/octet-stream").call.messages[-1]["content"] == '{"question": "what is JSON?"}'
    assert parse(b'{"prompt":"hi",}', "text/plain").call.messages[-1]["content"] == '{"prompt":"hi",}'


def test_a_flat_body():
    request = parse({"model": "qwen-plus", "prompt": "hi", "temperature": 0.5, "parameters": {"seed": 7}, "stream": True})
    assert request.mode == "prompt" and request.stream and request.call.model == "qwen-plus"
    assert request.call.parameters == {"temperature": 0.5, "seed": 7, "result_format": "text", "incremental_output": True}
    assert request.log_fields() == {"mode": "prompt", "model": "qwen-plus", "stream": True}


def test_a_native_body():
    messages = [{"role": "user", "content": "hi"}]
    request = parse({"model": "qwen-max", "input": {"messages": messages}, "parameters": {"top_p": 0.8, "stream": True}}, "application/octet-stream")
    assert request.mode == "messages" and request.stream and request.call.messages == messages
    assert request.call.parameters == {"top_p": 0.8, "result_format": "message", "incremental_output": True}
    assert "`temperature`" in refused({"input": {"prompt": "hi"}, "temperature": 1}).message


def test_tools_in_prompt_mode_ask_for_messages_and_never_text():
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    assert parse({"prompt": "hi", "tools": tools}).call.parameters["result_format"] == "message"
    assert "`tools`" in refused({"prompt": "hi", "tools": tools, "result_format": "text"}).message


@pytest.mark.parametrize(
    "body, fixed_mode, mentions",
    [
        ({"messages": [{"role": "user", "content": "hi"}], "prompt": "hi"}, None, "not both"),
        ({"model": "qwen-plus"}, None, "needs `messages`"),
        ({"prompt": "hi"}, "messages", "POST /invoke/prompt"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "prompt", "POST /invoke/messages"),
        ({"model": "qwen-plus"}, "prompt", "expects `prompt`"),
        ({"prompt": "   "}, None, "non-empty string"),
        ({"prompt": "hi", "seed": 1, "parameters": {"seed": 2}}, None, "give it once"),
        ({"input": "hi"}, None, "`input` must be a JSON object"),
        (["hi"], None, "must be an object"),
    ],
)
def test_shapes_that_cannot_be_read_are_refused(body, fixed_mode, mentions):
    assert mentions in refused(body, fixed_mode=fixed_mode).message


def test_empty_and_undecodable_bodies():
    assert "empty" in refused(b"  \n", "text/plain").message
    assert "UTF-8" in refused(b"\xff\xfe", "text/plain").message


@pytest.mark.parametrize("body", [{"prompt": "hi", "max_completion_tokens": 7}, {"prompt": "hi", "parameters": {"max_completion_tokens": 7}}, {"prompt": "hi", "max_completion_tokens": 7, "max_tokens": 7}])
def test_max_completion_tokens_is_max_tokens(body):
    parameters = parse(body).call.parameters
    assert parameters["max_tokens"] == 7 and "max_completion_tokens" not in parameters


def test_max_tokens_and_max_completion_tokens_must_agree():
    assert "disagree" in refused({"prompt": "hi", "max_completion_tokens": 7, "max_tokens": 9}).message


@pytest.mark.parametrize(
    "field, value, advice",
    [("frequency_penalty", 0.5, "presence_penalty"), ("functions", [{"name": "f"}], "use `tools`")],
)
def test_openai_fields_dashscope_cannot_honour_are_refused(field, value, advice):
    message = refused({"prompt": "hi", field: value}).message
    assert f"`{field}`" in message and advice in message


def test_openai_fields_that_ask_for_nothing_are_dropped():
    assert parse({"prompt": "hi", "n": 1, "logprobs": False, "store": False}).call.parameters == {"result_format": "text"}


@pytest.mark.parametrize("value, expected", [(None, None), ("true", True), (" ON ", True), ("1", True), ("false", False), ("", False), ("off", False)])
def test_the_stream_query_switch(value, expected):
    assert stream_flag(value, "stream") is expected


def test_a_stream_query_that_is_not_a_switch():
    with pytest.raises(InvalidRequest, match="`stream` must be true or false"):
        stream_flag("maybe", "stream")
