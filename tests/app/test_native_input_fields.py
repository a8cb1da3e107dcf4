"""A DashScope-native body's `input` carries `messages` or `prompt`: anything else there (DashScope's old
`history`, a misplaced parameter) was dropped without a word, so the model answered without it. It is
a 400 naming the field, on /invoke and on the native door, before any DashScope call."""

from __future__ import annotations

import pytest

NATIVE = "/api/v1/services/aigc/text-generation/generation"


@pytest.mark.parametrize("path", ["/invoke", NATIVE])
@pytest.mark.parametrize("field, value", [
    ("history", [{"user": "my name is Ada", "bot": "hello Ada"}]),
    ("system", "answer in French"),
])
def test_an_unknown_input_field_is_refused_not_dropped(client, emulator, path, field, value):
    calls_before = len(emulator.history)
    answer = client.post(path, json={"model": "qwen-plus", "input": {"prompt": "what is my name?", field: value}})
    assert answer.status_code == 400, answer.get_json()  # 4900023: 200, the field never sent
    assert f"input.{field}" in answer.get_json()["message"]
    assert len(emulator.history) == calls_before


def test_messages_and_prompt_are_still_taken(client):
    assert client.post(NATIVE, json={"model": "qwen-plus", "input": {"prompt": "hi"}}).status_code == 200
    assert client.post("/invoke", json={"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": "hi"}]}}).status_code == 200
