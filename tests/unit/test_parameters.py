"""core/parameters.py and core/json_input.py: checking what a caller sends, before any call."""

from __future__ import annotations

import json
import sys

import pytest

from core.errors import InvalidRequest
from core.json_input import MAX_JSON_DEPTH, load_json
from core.parameters import SDK_CONTROL_ARGUMENTS, model_name, stream_switch, validate_messages, validate_parameters, with_call_defaults


@pytest.mark.parametrize("name", ["api_key", "base_address", "headers", "model", "messages", "stream"])
def test_reserved_names_are_refused(name):
    assert name in SDK_CONTROL_ARGUMENTS
    with pytest.raises(InvalidRequest, match="not a generation parameter") as raised:
        validate_parameters({name: "x"})
    assert raised.value.param == name


def test_known_parameters_are_checked_and_unknown_ones_pass():
    given = {"temperature": 0.5, "stop": ["END"], "tool_choice": "auto", "new_dashscope_option": {"any": "thing"}, "seed": None}
    assert validate_parameters(given) == {"temperature": 0.5, "stop": ["END"], "tool_choice": "auto", "new_dashscope_option": {"any": "thing"}}
    assert validate_parameters({}) == {}


@pytest.mark.parametrize(
    "parameters, param",
    [({"temperature": 2}, "temperature"), ({"top_p": "0.5"}, "top_p"), ({"stop": ["a", 1]}, "stop"), ({"tools": []}, "tools"), ({"tool_choice": "anything"}, "tool_choice"), ({"response_format": {"type": "xml"}}, "response_format.type")],
)
def test_a_bad_value_is_named(parameters, param):
    with pytest.raises(InvalidRequest) as raised:
        validate_parameters(parameters)
    assert raised.value.param == param and f"`{param}`" in raised.value.message


def test_messages_are_checked_and_returned_unchanged():
    messages = [{"role": "user", "content": "hi", "extra": 1}, {"role": "assistant", "content": None, "tool_calls": [{"id": "x"}]}]
    assert validate_messages(messages) is messages
    for bad, param in [([], "messages"), ([{"role": "bot", "content": "hi"}], "messages[0].role"), ([{"role": "user", "content": ""}], "messages[0]")]:
        with pytest.raises(InvalidRequest) as raised:
            validate_messages(bad)
        assert raised.value.param == param
    with pytest.raises(InvalidRequest, match="must be a list"):
        validate_messages("hi")


def test_model_name():
    assert model_name(None, "qwen-plus") == "qwen-plus"
    assert model_name("qwen-max", "qwen-plus") == "qwen-max"
    for bad in ("", "  ", 7):
        with pytest.raises(InvalidRequest) as raised:
            model_name(bad, "qwen-plus")
        assert raised.value.param == "model"


def test_stream_switch():
    assert stream_switch(None) is False and stream_switch(True) is True and stream_switch(False) is False
    for bad in ("true", 1):
        with pytest.raises(InvalidRequest, match="`stream` must be true or false") as raised:
            stream_switch(bad)
        assert raised.value.param == "stream"


def test_with_call_defaults_keeps_what_the_caller_set():
    assert with_call_defaults({}, "text", stream=False) == {"result_format": "text"}
    assert with_call_defaults({}, "message", stream=True) == {"result_format": "message", "incremental_output": True}
    given = {"result_format": "message", "incremental_output": False}
    assert with_call_defaults(given, "text", stream=True) is given and given == {"result_format": "message", "incremental_output": False}


# -- load_json -----------------------------------------------------------------------------------


def test_json_is_parsed():
    assert load_json('{"a": [1, "ü"]}', "the body") == {"a": [1, "ü"]}
    assert load_json(json.dumps([[]] * 3), "the body") == [[], [], []]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_and_no_deeper():
    assert load_json(nested(MAX_JSON_DEPTH), "the body")
    with pytest.raises(InvalidRequest, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        load_json(nested(MAX_JSON_DEPTH + 1), "the body")
    with pytest.raises(InvalidRequest, match="the body is nested too deeply"):
        load_json(nested(100_000), "the body")


@pytest.mark.parametrize(
    "text, mentions",
    [
        ('{"a": 1,}', "the body is not valid JSON ("),
        ('{"text": "\\ud800"}', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate"),
        (b"\xff{}", "the body is not valid UTF-8 text"),
        ("1" * (sys.get_int_max_str_digits() + 1), f"the body holds an integer longer than {sys.get_int_max_str_digits()} digits"),
    ],
)
def test_what_cannot_be_json_is_a_400_naming_why(text, mentions):
    with pytest.raises(InvalidRequest) as raised:
        load_json(text, "the body")
    assert raised.value.status == 400 and mentions in raised.value.message
