"""POST /invoke and its fixed-mode twins: every mode and body shape, as an HTTP caller sees them and
as DashScope receives them. How a body is read, and each refusal, is tests/unit/test_invoke_body.py."""

from __future__ import annotations

import dataclasses
import json

import pytest

from app import create_app
from core.config import DEFAULT_SYSTEM_PROMPT
from tests.conftest import FAKE_KEY, event_bytes, event_json

CONSOLE_KEYS = {"status_code", "request_id", "code", "message", "output", "usage"}


def upstream_body(emulator) -> dict:
    return emulator.last_request()["body"]


def test_console_test_event_gets_the_console_shape(client, emulator):
    # What the FC console's test tab sends: the event content as raw bytes, octet-stream.
    response = client.post("/invoke", data=event_bytes("raw-text.txt"), content_type="application/octet-stream")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == CONSOLE_KEYS
    assert body["status_code"] == 200 and body["code"] == "" and body["message"] == ""
    assert body["request_id"] == emulator.last_request()["request_id"]
    assert body["output"]["text"] is None and body["output"]["finish_reason"] is None
    choice = body["output"]["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert "如何做西红柿炖牛腩?" in choice["message"]["content"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    # Chinese stays readable in the console rather than \u-escaped.
    assert "如何做西红柿炖牛腩".encode() in response.data


def test_raw_text_in_messages_mode_gets_the_system_prompt(client, emulator):
    client.post("/invoke", data="hello", content_type="text/plain")

    sent = upstream_body(emulator)
    assert sent["input"]["messages"] == [
        {"role": "system", "content": DEFAULT_SYSTEM_PROMPT},
        {"role": "user", "content": "hello"},
    ]
    assert sent["parameters"]["result_format"] == "message"
    assert sent["model"] == "qwen-plus"
    assert emulator.last_request()["api_key"] == FAKE_KEY


def test_system_prompt_and_model_come_from_config(config, emulator):
    custom = dataclasses.replace(config, system_prompt="你是一位厨师。", default_model="qwen-max")
    create_app(custom).test_client().post("/invoke", data="hi")

    sent = upstream_body(emulator)
    assert sent["model"] == "qwen-max"
    assert sent["input"]["messages"][0] == {"role": "system", "content": "你是一位厨师。"}


def test_raw_text_in_prompt_mode_on_the_prompt_route(client, emulator):
    response = client.post("/invoke/prompt", data=event_bytes("raw-text.txt"), content_type="application/octet-stream")

    body = response.get_json()
    assert response.status_code == 200
    assert body["output"]["choices"] is None
    assert body["output"]["finish_reason"] == "stop"
    assert "如何做西红柿炖牛腩?" in body["output"]["text"]
    sent = upstream_body(emulator)
    assert sent["input"] == {"prompt": "如何做西红柿炖牛腩?"}
    assert sent["parameters"]["result_format"] == "text"


def test_invoke_mode_prompt_makes_raw_text_a_prompt(config, emulator):
    app = create_app(dataclasses.replace(config, invoke_mode="prompt"))
    response = app.test_client().post("/invoke", data="写一首诗", content_type="application/octet-stream")

    assert response.status_code == 200
    assert upstream_body(emulator)["input"] == {"prompt": "写一首诗"}
    assert response.get_json()["output"]["text"]


def test_raw_text_works_on_the_messages_route(client, emulator):
    response = client.post("/invoke/messages", data="hi there")
    assert response.status_code == 200
    assert upstream_body(emulator)["input"]["messages"][-1] == {"role": "user", "content": "hi there"}


def test_flat_json_messages_go_through_unchanged(client, emulator):
    event = event_json("messages.json")
    response = client.post("/invoke", json=event)

    assert response.status_code == 200
    sent = upstream_body(emulator)
    assert sent["input"]["messages"] == event["messages"]
    assert sent["model"] == "qwen-plus"
    assert sent["parameters"]["temperature"] == 0.7
    assert sent["parameters"]["max_tokens"] == 800
    assert response.get_json()["output"]["choices"][0]["message"]["content"].endswith("好的,请列出配料。")


def test_json_sent_as_octet_stream_is_still_json(client, emulator):
    # The console sends JSON test events with the same octet-stream content type as text.
    response = client.post("/invoke", data=event_bytes("messages.json"), content_type="application/octet-stream")

    assert response.status_code == 200
    assert upstream_body(emulator)["input"]["messages"] == event_json("messages.json")["messages"]


def test_flat_json_prompt(client, emulator):
    response = client.post("/invoke", json=event_json("prompt.json"))

    assert response.status_code == 200
    sent = upstream_body(emulator)
    assert sent["input"] == {"prompt": "用一句话介绍杭州。"}
    assert sent["parameters"]["top_p"] == 0.8 and sent["parameters"]["seed"] == 1234
    assert response.get_json()["output"]["text"]


def test_dashscope_native_body(client, emulator):
    event = event_json("native.json")
    response = client.post("/invoke", json=event)

    assert response.status_code == 200
    sent = upstream_body(emulator)
    assert sent["model"] == "qwen-plus"
    assert sent["input"]["messages"] == event["input"]["messages"]
    assert sent["parameters"]["temperature"] == 0.85
    assert sent["parameters"]["result_format"] == "message"


def test_native_prompt_body_on_the_prompt_route(client, emulator):
    response = client.post("/invoke/prompt", json={"model": "qwen-plus", "input": {"prompt": "你好"}, "parameters": {"seed": 7}})

    assert response.status_code == 200
    sent = upstream_body(emulator)
    assert sent["input"] == {"prompt": "你好"} and sent["parameters"]["seed"] == 7


def test_flat_body_may_nest_parameters(client, emulator):
    client.post("/invoke", json={"prompt": "hi", "parameters": {"top_k": 50}, "temperature": 0.3})
    sent = upstream_body(emulator)["parameters"]
    assert sent["top_k"] == 50 and sent["temperature"] == 0.3


def test_result_format_is_the_callers_choice(client, emulator):
    response = client.post("/invoke", json={"messages": [{"role": "user", "content": "hi"}], "result_format": "text"})
    assert upstream_body(emulator)["parameters"]["result_format"] == "text"
    assert response.get_json()["output"]["text"]


@pytest.mark.parametrize(
    "name, value",
    [
        ("temperature", 0.0),
        ("temperature", 1.99),
        ("top_p", 1),
        ("top_k", 100),
        ("max_tokens", 1500),
        ("seed", 2**64 - 1),
        ("stop", "。"),
        ("stop", ["你好", "天气"]),
        ("stop", [[37763, 367]]),
        ("repetition_penalty", 1.1),
        ("presence_penalty", -2),
        ("enable_search", True),
        ("response_format", {"type": "json_object"}),
        ("incremental_output", False),
    ],
)
def test_known_parameters_reach_dashscope(client, emulator, name, value):
    response = client.post("/invoke", json={"messages": [{"role": "user", "content": "hi"}], name: value})

    assert response.status_code == 200, response.get_json()
    assert upstream_body(emulator)["parameters"][name] == value


def test_unknown_parameters_pass_through_untouched(client, emulator):
    extra = {"enable_thinking": False, "search_options": {"forced_search": True, "nested": [1, {"a": None}]}}
    client.post("/invoke", json={"prompt": "hi", **extra})
    sent = upstream_body(emulator)["parameters"]
    assert sent["enable_thinking"] is False
    assert sent["search_options"] == extra["search_options"]


def test_null_parameters_are_left_out(client, emulator):
    client.post("/invoke", json={"prompt": "hi", "temperature": None})
    assert "temperature" not in upstream_body(emulator)["parameters"]


def test_model_can_be_chosen_per_request(client, emulator):
    client.post("/invoke", json={"model": "qwen-max", "prompt": "hi"})
    assert upstream_body(emulator)["model"] == "qwen-max"


def test_tool_call_round_trip_keeps_tool_calls_and_tool_messages(client, emulator):
    event = event_json("tool-round-trip.json")
    first = client.post("/invoke", json={"messages": event["messages"][:1], "tools": event["tools"]})

    assert first.status_code == 200
    choice = first.get_json()["output"]["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_current_weather"

    second = client.post("/invoke", json=event)
    assert second.status_code == 200
    sent = upstream_body(emulator)
    assert sent["input"]["messages"] == event["messages"]  # tool_calls, name, tool_call_id intact
    assert sent["parameters"]["tools"] == event["tools"]
    assert "杭州今天晴" in second.get_json()["output"]["choices"][0]["message"]["content"]


def test_tools_in_prompt_mode_ask_for_message_format(client, emulator):
    tools = event_json("tool-round-trip.json")["tools"]
    response = client.post("/invoke/prompt", json={"prompt": "杭州天气?", "tools": tools})
    assert response.status_code == 200
    assert upstream_body(emulator)["parameters"]["result_format"] == "message"


def test_multimodal_content_parts_are_accepted(client, emulator):
    messages = [{"role": "user", "content": [{"image": "https://example.com/cat.png"}, {"text": "这是什么?"}]}]
    response = client.post("/invoke", json={"model": "qwen3.6-flash", "messages": messages})
    assert response.status_code == 200
    assert upstream_body(emulator)["input"]["messages"] == messages
    assert emulator.last_request()["path"].endswith("/multimodal-generation/generation")


@pytest.mark.parametrize("stream", [False, True])
def test_the_console_shape_is_that_of_the_endpoint_called_after_model_aliases(config, emulator, stream):
    # qwen-plus (a text-endpoint model) mapped to qwen3.6-plus, served on the multimodal endpoint, whose
    # SDK class also prints `output.audio` and `usage.characters` (handlers/invoke/console_shape.py).
    client = create_app(dataclasses.replace(config, model_aliases=(("qwen-plus", "qwen3.6-plus"),))).test_client()
    body = {"model": "qwen-plus", "messages": [{"role": "user", "content": "hi"}], "enable_thinking": False}
    response = client.post("/invoke" + ("?stream=true" if stream else ""), json=body)
    assert response.status_code == 200
    assert emulator.last_request()["path"].endswith("/multimodal-generation/generation")
    answers = ([json.loads(line[5:]) for line in response.get_data(as_text=True).splitlines() if line.startswith("data:")]
               if stream else [response.get_json()])
    for answer in answers:
        assert answer["output"]["audio"] is None and answer["usage"]["characters"] == 0


# -- octet-stream bodies shaped like JSON ----------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/octet-stream", "application/x-www-form-urlencoded", None])
def test_a_broken_json_object_is_a_400_not_text_for_the_model(client, emulator, content_type):
    emulator.clear()
    response = client.post("/invoke", data='{"prompt":"hi",}', content_type=content_type)
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "not valid JSON" in message and "line 1 column 16" in message
    assert "Content-Type: text/plain" in message
    assert emulator.history == []


def test_text_that_starts_with_a_brace_goes_as_text_plain(client, emulator):
    text = '{"prompt":"hi",} is a JSON mistake: explain it'
    assert client.post("/invoke", data=text, content_type="application/octet-stream").status_code == 200
    assert upstream_body(emulator)["input"]["messages"][-1]["content"] == text
    broken = '{"prompt":"hi",}'
    assert client.post("/invoke", data=broken, content_type="text/plain").status_code == 200
    assert upstream_body(emulator)["input"]["messages"][-1]["content"] == broken
