"""MAX_INPUT_TOKENS counts everything a call sends for the model to read, on every door: a long text
placed in a tool's description, an assistant's tool-call arguments, `reasoning_content` or a
response_format json_schema is refused (400, with the count) before anything reaches DashScope."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import pytest

from app import create_app

LONG = "one two three four five six seven eight nine ten"  # 10 tokens
LIMIT = 8

TOOL = {"type": "function", "function": {"name": "lookup", "description": LONG, "parameters": {"type": "object"}}}
ASKED = {"role": "user", "content": "hi"}
CALLED = {"role": "assistant", "content": "",
          "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": LONG}}]}
ANSWERED = {"role": "tool", "tool_call_id": "call_1", "name": "lookup", "content": "ok"}
THOUGHT = {"role": "assistant", "content": "hello", "reasoning_content": LONG}
SCHEMA = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object", "description": LONG}}}

# Each placement: the messages, and the parameters, of a call whose only long text is there.
PLACEMENTS: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "tools[].function.description": ([ASKED], {"tools": [TOOL]}),
    "assistant tool_calls[].function.arguments": ([ASKED, CALLED, ANSWERED], {}),
    "reasoning_content": ([ASKED, THOUGHT, {"role": "user", "content": "and?"}], {}),
    "response_format json_schema": ([ASKED], {"response_format": SCHEMA}),
}


def _invoke(messages: list, parameters: dict) -> tuple[str, dict]:
    return "/invoke", {"model": "qwen-plus", "messages": messages, **parameters}


def _native(messages: list, parameters: dict) -> tuple[str, dict]:
    return "/api/v1/services/aigc/text-generation/generation", {
        "model": "qwen-plus", "input": {"messages": messages}, "parameters": {"result_format": "message", **parameters}}


def _openai(messages: list, parameters: dict) -> tuple[str, dict]:
    return "/v1/chat/completions", {"model": "qwen-plus", "messages": messages, **parameters}


DOORS: dict[str, tuple[Callable[[list, dict], tuple[str, dict]], Callable[[dict], str]]] = {
    "/invoke": (_invoke, lambda body: body["message"]),
    "native": (_native, lambda body: body["message"]),
    "/v1": (_openai, lambda body: body["error"]["message"]),
}


@pytest.fixture
def limited(config):
    return create_app(dataclasses.replace(config, max_input_tokens=(("*", LIMIT),))).test_client()


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("door", DOORS)
def test_text_anywhere_in_the_call_counts_against_the_limit(limited, emulator, door, placement):
    build, message_of = DOORS[door]
    messages, parameters = PLACEMENTS[placement]
    emulator.clear()
    path, body = build(messages, parameters)
    response = limited.post(path, json=body)
    assert response.status_code == 400, response.get_json()
    message = message_of(response.get_json())
    assert "at most 8" in message and "MAX_INPUT_TOKENS" in message
    counted = int(message.split("the input is ")[1].split(" tokens")[0])
    assert counted > LIMIT
    assert emulator.history == []


@pytest.mark.parametrize("door", DOORS)
def test_the_same_calls_go_when_the_limit_allows_them(config, emulator, door):
    roomy = create_app(dataclasses.replace(config, max_input_tokens=(("*", 200),))).test_client()
    build, _ = DOORS[door]
    emulator.clear()
    for messages, parameters in PLACEMENTS.values():
        path, body = build(messages, parameters)
        response = roomy.post(path, json=body)
        assert response.status_code == 200, response.get_json()
    assert len(emulator.history) == len(PLACEMENTS)
