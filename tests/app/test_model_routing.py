"""Today's Qwen models through both doors (issue 12): each call reaches the endpoint its model lives
on (the suite's emulator answers "url error" otherwise), media goes only to models that take it,
thinking models stream their reasoning and answer non-streamed calls, stream-only models too."""

from __future__ import annotations

import json

import pytest

from app import create_app
from tests.conftest import sse_events

TEXT_PATH = "/api/v1/services/aigc/text-generation/generation"
MULTIMODAL_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def v1(client, **body):
    return client.post("/v1/chat/completions", json=body)


def sse_data(text: str) -> list[dict]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]


# -- endpoints ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["qwen3.6-flash", "qwen3.5-plus"])
def test_a_vision_model_gets_its_images_on_the_multimodal_endpoint_from_invoke(client, emulator, model):
    parts = [{"image": "https://example.com/cat.png"}, {"text": "what is it?"}]
    response = client.post("/invoke", json={"model": model, "messages": [{"role": "user", "content": parts}]})
    assert response.status_code == 200, response.get_json()
    seen = emulator.last_request()
    assert seen["path"] == MULTIMODAL_PATH and seen["body"]["input"]["messages"][0]["content"] == parts
    content = response.get_json()["output"]["choices"][0]["message"]["content"]
    assert content == [{"text": f"This is the DashScope emulator ({model}). You said: what is it? (shown: 1 image)"}]


@pytest.mark.parametrize("model", ["qwen3.6-plus", "qwen3.5-plus"])
def test_a_vision_model_gets_openai_image_parts_on_the_multimodal_endpoint_from_v1(client, emulator, model):
    parts = [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": PNG}},
        {"type": "text", "text": "compare"},
    ]
    response = v1(client, model=model, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": parts}])
    assert response.status_code == 200, response.get_json()
    seen = emulator.last_request()
    assert seen["path"] == MULTIMODAL_PATH
    assert seen["body"]["input"]["messages"] == [
        {"role": "system", "content": [{"text": "Be brief."}]},
        {"role": "user", "content": [{"image": "https://example.com/cat.png"}, {"image": PNG}, {"text": "compare"}]},
    ]
    message = response.get_json()["choices"][0]["message"]
    assert message["content"] == f"This is the DashScope emulator ({model}). You said: compare (shown: 2 images)"


def test_a_text_only_call_to_qwen35_goes_multimodal_even_in_prompt_mode(client, emulator):
    response = client.post("/invoke", json={"model": "qwen3.5-flash", "prompt": "hi", "enable_thinking": False})
    assert response.status_code == 200, response.get_json()
    seen = emulator.last_request()
    assert seen["path"] == MULTIMODAL_PATH
    assert seen["body"]["input"]["messages"] == [{"role": "user", "content": [{"text": "hi"}]}]


def test_text_models_stay_on_the_text_endpoint_unchanged(client, emulator):
    response = v1(client, model="qwen-plus", messages=[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
    assert response.status_code == 200
    seen = emulator.last_request()
    assert seen["path"] == TEXT_PATH and seen["body"]["input"]["messages"] == [{"role": "user", "content": "a\nb"}]


def test_media_for_a_text_model_is_a_400_naming_the_model(client, emulator):
    emulator.clear()
    native = client.post("/invoke", json={"model": "qwen-max", "messages": [{"role": "user", "content": [{"image": "https://example.com/a.png"}]}]})
    assert native.status_code == 400
    assert "'qwen-max'" in native.get_json()["message"] and "MULTIMODAL_MODELS" in native.get_json()["message"]
    openai = v1(client, model="qwen-max", messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}])
    assert openai.status_code == 400 and "'qwen-max'" in openai.get_json()["error"]["message"]
    assert emulator.history == []


def test_multimodal_models_setting_routes_a_model_the_rules_do_not_know(client, config, emulator, monkeypatch):
    # A name the built-in rules put on the text endpoint, which the emulator serves on the multimodal one:
    # a model DashScope adds later, so the emulator is told it exists.
    monkeypatch.setattr(emulator, "extra_models", ("qwen-omnix-*",))
    body = {"model": "qwen-omnix-2027", "messages": [{"role": "user", "content": "x"}]}
    unknown = client.post("/invoke", json=body)
    assert unknown.status_code == 400 and unknown.get_json()["message"].startswith("url error")
    assert "'qwen-omnix-2027'" in unknown.get_json()["message"] and "MULTIMODAL_MODELS" in unknown.get_json()["message"]
    app = create_app(config.__class__(**{**config.__dict__, "multimodal_models": ("qwen-omnix-*",)}))
    response = app.test_client().post("/invoke", json=body)
    assert response.status_code == 200 and emulator.last_request()["path"] == MULTIMODAL_PATH


# -- thinking ----------------------------------------------------------------------------------------
def test_a_stream_only_model_answers_a_non_streamed_call_on_both_doors(client, emulator):
    native = client.post("/invoke", json={"model": "qwen3-next-80b-a3b-thinking", "messages": [{"role": "user", "content": "one plus one"}]})
    assert native.status_code == 200, native.get_json()
    seen = emulator.last_request()
    assert seen["stream"] is True and seen["body"]["parameters"]["incremental_output"] is True
    message = native.get_json()["output"]["choices"][0]["message"]
    assert message["content"] == "This is the DashScope emulator (qwen3-next-80b-a3b-thinking). You said: one plus one"
    assert message["reasoning_content"] == "The user said: one plus one I should answer plainly and name the emulator."
    assert native.get_json()["output"]["choices"][0]["finish_reason"] == "stop"
    assert native.get_json()["usage"]["output_tokens_details"]["reasoning_tokens"] > 0

    openai = v1(client, model="qwen3.6-plus", messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG}}, {"type": "text", "text": "count"}]}])
    assert openai.status_code == 200, openai.get_json()
    answer = openai.get_json()
    assert answer["choices"][0]["message"]["content"].endswith("You said: count (shown: 1 image)")
    assert answer["choices"][0]["message"]["reasoning_content"].startswith("The user said: count")
    assert answer["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    assert emulator.last_request()["path"] == MULTIMODAL_PATH and emulator.last_request()["stream"] is True


def test_thinking_by_default_on_qwen35_is_streamed_upstream_and_assembled(client, emulator):
    response = v1(client, model="qwen3.5-plus", messages=[{"role": "user", "content": "why"}])
    assert response.status_code == 200
    assert response.get_json()["choices"][0]["message"]["reasoning_content"].startswith("The user said: why")
    assert emulator.last_request()["stream"] is True


def test_an_unknown_model_refused_unstreamed_is_retried_streamed_once(client, emulator):
    emulator.clear()
    refusal = "This model only support stream mode, please enable the stream parameter to access the model."
    text = f'hello [[emulate status=400 code=InvalidParameter flaky=1 message="{refusal}"]]'
    response = client.post("/invoke", json={"model": "qwen-plus", "messages": [{"role": "user", "content": text}]})
    assert response.status_code == 200, response.get_json()
    assert [seen["stream"] for seen in emulator.history] == [False, True]
    assert response.get_json()["output"]["choices"][0]["message"]["content"].endswith("You said: hello")


def test_reasoning_streams_first_on_v1(client):
    response = v1(client, model="qwen3-next-80b-a3b-thinking", stream=True, stream_options={"include_usage": True},
                  messages=[{"role": "user", "content": "think"}])
    chunks = sse_data(response.get_data(as_text=True))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks if chunk["choices"]]
    reasoning = "".join(delta.get("reasoning_content", "") for delta in deltas)
    content = "".join(delta.get("content", "") for delta in deltas)
    assert reasoning == "The user said: think I should answer plainly and name the emulator."
    assert content == "This is the DashScope emulator (qwen3-next-80b-a3b-thinking). You said: think"
    first_content = next(i for i, delta in enumerate(deltas) if delta.get("content"))
    assert "reasoning_content" in deltas[1] and first_content > 1  # reasoning right after the role, before the answer
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_reasoning_effort_maps_to_thinking_on_v1(client, emulator):
    assert v1(client, model="qwen-plus", reasoning_effort="low", messages=[{"role": "user", "content": "x"}]).status_code == 200
    parameters = emulator.last_request()["body"]["parameters"]
    assert parameters["enable_thinking"] is True and parameters["thinking_budget"] == 2048
    assert "reasoning_effort" not in parameters
    assert v1(client, model="qwen3.5-plus", reasoning_effort="none", messages=[{"role": "user", "content": "x"}]).status_code == 200
    assert emulator.last_request()["body"]["parameters"]["enable_thinking"] is False


def test_thinking_parameters_pass_through_invoke(client, emulator):
    response = client.post("/invoke?stream=true", json={"model": "qwen-plus", "messages": [{"role": "user", "content": "hm"}],
                                                        "enable_thinking": True, "thinking_budget": 3})
    events = sse_events(response.get_data(as_text=True))
    assert emulator.last_request()["body"]["parameters"]["thinking_budget"] == 3
    reasoning = "".join(data["output"]["choices"][0]["message"].get("reasoning_content") or "" for _, data in events)
    assert reasoning == "The user said"  # three tokens


def test_cumulative_events_on_invoke_for_a_thinking_model(client, emulator):
    response = client.post("/invoke?stream=true", json={"model": "qwen3-next-80b-a3b-thinking", "messages": [{"role": "user", "content": "a b c d"}],
                                                        "incremental_output": False})
    texts = [data["output"]["choices"][0]["message"]["content"] for _, data in sse_events(response.get_data(as_text=True))]
    assert emulator.last_request()["body"]["parameters"]["incremental_output"] is True  # what DashScope gets
    assert texts[-1] == "This is the DashScope emulator (qwen3-next-80b-a3b-thinking). You said: a b c d"
    assert all(texts[-1].startswith(text) for text in texts) and len(set(texts)) > 2  # each event the whole so far


# -- forced tools, JSON ------------------------------------------------------------------------------
TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def test_forced_tool_use_turns_default_thinking_off(client, emulator):
    response = v1(client, model="qwen3.5-plus", tools=TOOLS, tool_choice="required", messages=[{"role": "user", "content": "Paris"}])
    assert response.status_code == 200, response.get_json()
    parameters = emulator.last_request()["body"]["parameters"]
    assert parameters["tool_choice"] == "required" and parameters["enable_thinking"] is False
    call = response.get_json()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "weather" and json.loads(call["function"]["arguments"]) == {"city": "Paris"}


def test_forced_tool_use_with_thinking_asked_is_a_400(client, emulator):
    emulator.clear()
    response = v1(client, model="qwen-plus", tools=TOOLS, tool_choice="required", enable_thinking=True, messages=[{"role": "user", "content": "x"}])
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "tool_choice"
    assert emulator.history == []


def test_tool_call_fragments_stream_as_openai_deltas(client):
    response = v1(client, model="qwen-plus", tools=TOOLS, stream=True,
                  messages=[{"role": "user", "content": "Hangzhou and more words here [[emulate tool_fragments]]"}])
    deltas = [chunk["choices"][0]["delta"] for chunk in sse_data(response.get_data(as_text=True)) if chunk["choices"]]
    calls = [call for delta in deltas for call in delta.get("tool_calls", [])]
    assert len(calls) > 2
    assert calls[0]["index"] == 0 and calls[0]["id"] and calls[0]["function"]["name"] == "weather"
    assert all(set(call) == {"index", "function"} and set(call["function"]) == {"arguments"} for call in calls[1:])
    arguments = "".join(call["function"]["arguments"] for call in calls)
    assert json.loads(arguments)["city"].startswith("Hangzhou")


def test_temperature_two_is_sent_as_dashscopes_highest(client, emulator):
    assert v1(client, model="qwen-plus", temperature=2, messages=[{"role": "user", "content": "x"}]).status_code == 200
    assert emulator.last_request()["body"]["parameters"]["temperature"] == 1.99
    assert client.post("/invoke", json={"prompt": "x", "temperature": 2}).status_code == 400  # /invoke keeps DashScope's range


def test_log_content_keeps_a_multimodal_reply_as_text(config, logs):
    # The multimodal endpoint's content is a list of parts: the log line's reply is still its text.
    client = create_app(config.__class__(**{**config.__dict__, "log_content": True})).test_client()
    logs.clear()
    body = {"model": "qwen3.6-flash", "messages": [{"role": "user", "content": [{"image": PNG}, {"text": "logged"}]}]}
    assert client.post("/invoke?stream=true", json=body).status_code == 200
    assert client.post("/invoke", json=body).status_code == 200
    streamed, whole = logs.requests()
    assert streamed["reply"] == whole["reply"] == "This is the DashScope emulator (qwen3.6-flash). You said: logged (shown: 1 image)"
    assert whole["endpoint"] == "multimodal"
