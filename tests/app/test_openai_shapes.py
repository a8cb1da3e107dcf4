"""The OpenAI door in-process (Flask's test client, no openai package): what the door does with the
function's configuration and its log line, and request shapes the openai client would never send.
The official client over a socket is tests/server/test_openai_client.py; parsing a request alone is
tests/unit/test_openai_format.py."""

from __future__ import annotations

import dataclasses

from app import create_app
from tests.conftest import event_json

HELLO = [{"role": "user", "content": "hello"}]


def test_the_default_model_when_none_is_given(client, emulator):
    response = client.post("/v1/chat/completions", json={"messages": HELLO})
    assert response.status_code == 200
    assert emulator.last_request()["body"]["model"] == "qwen-plus"
    assert response.get_json()["model"] == "qwen-plus"


def test_the_end_user_is_logged_not_forwarded(client, emulator, logs):
    client.post("/v1/chat/completions", json={"messages": HELLO, "user": "end-user-17"})
    (line,) = logs.requests()
    assert line["user"] == "end-user-17" and line["door"] == "openai"
    assert "user" not in emulator.last_request()["body"]["parameters"]


def test_missing_key_is_an_openai_shaped_503(config):
    client = create_app(dataclasses.replace(config, dashscope_api_key=None)).test_client()
    response = client.post("/v1/chat/completions", json={"messages": HELLO})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["type"] == "server_error" and "DASHSCOPE_API_KEY" in error["message"]


def test_listed_models_come_from_config(config):
    # Reading QWEN_MODELS is tests/unit/test_config.py.
    app = create_app(dataclasses.replace(config, default_model="qwen-max", listed_models=("qwen-plus", "qwen-max", "qwen-long")))
    ids = [model["id"] for model in app.test_client().get("/v1/models").get_json()["data"]]
    assert ids == ["qwen-max", "qwen-plus", "qwen-long"]


def test_neutral_values_are_accepted(client, emulator):
    neutral = {"n": 1, "frequency_penalty": 0.0, "logprobs": False, "store": False, "service_tier": "auto", "modalities": ["text"]}
    response = client.post("/v1/chat/completions", json={"messages": HELLO, **neutral})
    assert response.status_code == 200
    assert not set(neutral) & set(emulator.last_request()["body"]["parameters"])


def test_assistant_tool_calls_with_null_content(client, emulator):
    event = event_json("tool-round-trip.json")
    assistant = {**event["messages"][1], "content": None}
    tool = {key: value for key, value in event["messages"][2].items() if key != "name"}
    client.post("/v1/chat/completions", json={"messages": [event["messages"][0], assistant, tool], "tools": event["tools"]})
    sent = emulator.last_request()["body"]["input"]["messages"]
    assert sent[1]["content"] == "" and sent[1]["tool_calls"] == assistant["tool_calls"]
    assert sent[2] == {**tool, "name": "get_current_weather"}
