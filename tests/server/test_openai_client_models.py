"""Today's Qwen models through the official `openai` package, over a socket to the function under
gunicorn (issue 12): reasoning read from the chunks, vision parts, forced tool use, structured output."""

from __future__ import annotations

import base64

import pytest
from openai import OpenAI
from pydantic import BaseModel

pytestmark = pytest.mark.server

MULTIMODAL_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(40)).decode()
WEATHER = [{
    "type": "function",
    "function": {"name": "get_weather", "description": "The weather in a city",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
}]


@pytest.fixture
def oai(server) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="caller-key", max_retries=0, timeout=30)


def test_reasoning_is_read_from_the_chunks(oai):
    stream = oai.chat.completions.create(model="qwen3.5-plus", stream=True, stream_options={"include_usage": True},
                                         messages=[{"role": "user", "content": "Why is the sky blue?"}])
    reasoning, content, usage = "", "", None
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            reasoning += getattr(delta, "reasoning_content", None) or ""
            assert not (content and getattr(delta, "reasoning_content", None)), "reasoning after the answer began"
            content += delta.content or ""
        usage = chunk.usage or usage
    assert reasoning == "The user said: Why is the sky blue? I should answer plainly and name the emulator."
    assert content == "This is the DashScope emulator (qwen3.5-plus). You said: Why is the sky blue?"
    assert usage.completion_tokens_details.reasoning_tokens > 0


def test_a_thinking_model_answers_a_non_streamed_call(oai):
    completion = oai.chat.completions.create(model="qwen3-next-80b-a3b-thinking", messages=[{"role": "user", "content": "1+1?"}])
    message = completion.choices[0].message
    assert message.content == "This is the DashScope emulator (qwen3-next-80b-a3b-thinking). You said: 1+1?"
    assert message.reasoning_content.startswith("The user said: 1+1?")
    assert completion.choices[0].finish_reason == "stop"


def test_vision_parts_with_an_https_and_a_data_url(oai, emulator):
    completion = oai.chat.completions.create(model="qwen3.6-plus", messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://img.example.com/a.jpg"}},
        {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
        {"type": "text", "text": "What differs?"},
    ]}])
    assert completion.choices[0].message.content.endswith("You said: What differs? (shown: 2 images)")
    seen = emulator.last_request()
    assert seen["path"] == MULTIMODAL_PATH
    assert seen["body"]["input"]["messages"][0]["content"] == [
        {"image": "https://img.example.com/a.jpg"}, {"image": PNG}, {"text": "What differs?"}]


def test_forced_tool_use(oai, emulator):
    completion = oai.chat.completions.create(model="qwen3.5-plus", tools=WEATHER, tool_choice="required",
                                             messages=[{"role": "user", "content": "Hangzhou"}])
    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and call.function.arguments == '{"city": "Hangzhou"}'
    assert emulator.last_request()["body"]["parameters"]["tool_choice"] == "required"


def test_streamed_tool_call_fragments_reassemble(oai):
    stream = oai.chat.completions.create(model="qwen-plus", tools=WEATHER, stream=True,
                                         messages=[{"role": "user", "content": "Shanghai Pudong New Area [[emulate tool_fragments]]"}])
    names, arguments, ids = [], "", set()
    for chunk in stream:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            names += [call.function.name] if call.function.name else []
            ids |= {call.id} if call.id else set()
            arguments += call.function.arguments or ""
    assert names == ["get_weather"] and len(ids) == 1
    assert arguments.startswith('{"city": "Shanghai Pudong')


class Place(BaseModel):
    city: str
    population: int


def test_structured_output_with_parse(oai, emulator):
    completion = oai.chat.completions.parse(model="qwen3.5-plus", response_format=Place,
                                            messages=[{"role": "user", "content": "The biggest city in Zhejiang, as JSON"}])
    place = completion.choices[0].message.parsed
    assert isinstance(place, Place) and place.population == 1
    sent = emulator.last_request()["body"]["parameters"]
    assert sent["response_format"]["type"] == "json_schema" and sent["enable_thinking"] is False


def test_temperature_two_and_reasoning_effort_are_accepted(oai, emulator):
    oai.chat.completions.create(model="qwen-plus", temperature=2.0, reasoning_effort="medium",
                                messages=[{"role": "user", "content": "go"}])
    sent = emulator.last_request()["body"]["parameters"]
    assert sent["temperature"] == 1.99 and sent["enable_thinking"] is True and sent["thinking_budget"] == 8192
