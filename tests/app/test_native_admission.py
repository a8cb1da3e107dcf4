"""Admission and the native door: MAX_INPUT_TOKENS on every door (a 400 giving the count, before
anything is sent to DashScope), the keyless tokenizer, DashScope's async tasks refused, the tokenizer
loaded at FC's /initialize."""

from __future__ import annotations

import dataclasses

import pytest

from app import create_app

LONG = "one two three four five six seven eight nine ten"  # 10 tokens


@pytest.fixture
def limited(config):
    return create_app(dataclasses.replace(config, max_input_tokens=(("*", 8), ("qwen-long", 1000)))).test_client()


@pytest.mark.parametrize("path, body, message", [
    ("/invoke", {"prompt": LONG}, lambda body: body["message"]),
    ("/invoke", {"messages": [{"role": "user", "content": LONG}]}, lambda body: body["message"]),
    ("/v1/chat/completions", {"model": "qwen-plus", "messages": [{"role": "user", "content": LONG}]}, lambda body: body["error"]["message"]),
    ("/api/v1/services/aigc/text-generation/generation", {"model": "qwen-plus", "input": {"prompt": LONG}}, lambda body: body["message"]),
])
def test_every_door_refuses_an_over_long_input_before_calling(limited, emulator, path, body, message):
    emulator.clear()
    response = limited.post(path, json=body)
    assert response.status_code == 400
    assert "the input is 10 tokens long" in message(response.get_json()) and "at most 8" in message(response.get_json())
    assert emulator.history == []


def test_within_the_limit_or_with_a_larger_one_the_call_goes(limited, emulator):
    emulator.clear()
    assert limited.post("/invoke", json={"prompt": "one two"}).status_code == 200
    assert limited.post("/invoke", json={"prompt": LONG, "model": "qwen-long"}).status_code == 200
    assert len(emulator.history) == 2


def test_the_tokenizer_needs_no_key(config, emulator):
    emulator.clear()
    keyless = create_app(dataclasses.replace(config, dashscope_api_key=None)).test_client()
    answer = keyless.post("/api/v1/tokenizer", json={"model": "qwen-plus", "input": {"prompt": "你好？"}})
    assert answer.status_code == 200 and answer.get_json()["usage"] == {"input_tokens": 2}
    refused = keyless.post("/api/v1/services/aigc/text-generation/generation", json={"model": "qwen-plus", "input": {"prompt": "hi"}})
    assert refused.status_code == 503 and set(refused.get_json()) == {"code", "message", "request_id"}
    assert emulator.history == []


def test_dashscopes_async_tasks_are_refused_plainly(client, emulator):
    emulator.clear()
    response = client.post("/api/v1/services/aigc/text-generation/generation", headers={"X-DashScope-Async": "enable"},
                           json={"model": "qwen-plus", "input": {"prompt": "hi"}})
    assert response.status_code == 400 and "X-DashScope-Async" in response.get_json()["message"]
    assert emulator.history == []


def test_initialize_loads_the_tokenizer_when_inputs_are_limited(config):
    limited = create_app(dataclasses.replace(config, max_input_tokens=(("*", 8),))).test_client()
    assert limited.post("/initialize", headers={"x-fc-control-path": "/initialize"}).get_json() == {"status": "initialized"}
