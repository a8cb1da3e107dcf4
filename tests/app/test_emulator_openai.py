"""DashScope's OpenAI-compatible mode in the emulator (``/compatible-mode/v1/chat/completions``),
driven by the official openai client over a socket: what a peer gateway such as LiteLLM relays."""

from __future__ import annotations

import json

import openai
import pydantic
import pytest

from scripts.dashscope_emulator import Emulator
from scripts.emulator.models import STREAM_ONLY_MESSAGE
from tests.app.test_emulator import KEY, WEATHER_TOOL, user


@pytest.fixture
def oai(strict: Emulator) -> openai.OpenAI:
    strict.clear()
    return openai.OpenAI(base_url=strict.compatible_base_url, api_key=KEY, max_retries=0)


def test_compatible_mode_answers_openai_shapes(oai, strict):
    completion = oai.chat.completions.create(model="qwen-plus", messages=user("hello"))
    assert completion.choices[0].message.content == "This is the DashScope emulator (qwen-plus). You said: hello"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion.id == f"chatcmpl-{strict.last_request()['request_id']}"
    assert strict.last_request()["path"] == "/compatible-mode/v1/chat/completions"


def test_compatible_mode_streams_reasoning_content_and_usage(oai):
    stream = oai.chat.completions.create(
        model="qwen3.5-plus", messages=user([{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                                             {"type": "text", "text": "look"}]),
        stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning and content.endswith("(shown: 1 image)")
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens_details.reasoning_tokens > 0


def test_compatible_mode_streams_tool_calls_in_fragments(oai):
    stream = oai.chat.completions.create(model="qwen-plus", messages=user("Paris"), tools=[WEATHER_TOOL], stream=True)
    calls = [c.choices[0].delta.tool_calls[0] for c in list(stream) if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0].id and calls[0].function.name == "get_weather"
    assert json.loads("".join(call.function.arguments for call in calls)) == {"city": "Paris"}


def test_compatible_mode_errors_are_openai_errors(oai):
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.create(model="qwen3-next-80b-a3b-thinking", messages=user("hi"))
    assert refused.value.body["code"] == "invalid_parameter_error"
    assert refused.value.body["message"] == STREAM_ONLY_MESSAGE
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(model="qwen-plus", messages=user('hi [[emulate status=429]]'))
    with pytest.raises(openai.AuthenticationError):
        oai.with_options(api_key="sk-invalid").chat.completions.create(model="qwen-plus", messages=user("hi"))


def test_structured_output_from_the_openai_parse_helper_fits_a_nested_model(oai):
    class City(pydantic.BaseModel):
        name: str
        population: int

    class Cities(pydantic.BaseModel):
        cities: list[City]
        capital: City

    completion = oai.chat.completions.parse(model="qwen-plus", messages=user("cities"), response_format=Cities)
    parsed = completion.choices[0].message.parsed
    assert parsed.capital.name.endswith("You said: cities") and len(parsed.cities) == 1
