"""The OpenAI-compatible door as its users meet it: the official `openai` package over a real socket
to the function under gunicorn (typed responses, the client's own exception classes, streams as the
client reads them). In-process shapes are tests/app/test_openai_shapes.py."""

from __future__ import annotations

import json

import openai
import pytest
from openai import OpenAI

from tests.conftest import FAKE_KEY, event_json

pytestmark = pytest.mark.server

CALLER_KEY = "caller-key-that-is-not-dashscopes"
HELLO = [{"role": "user", "content": "one two three four five six seven eight"}]
WEATHER_TOOLS = event_json("tool-round-trip.json")["tools"]


@pytest.fixture
def oai(server) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key=CALLER_KEY, max_retries=0, timeout=30)


def upstream(emulator) -> dict:
    return emulator.last_request()["body"]


def test_plain_completion(oai, emulator):
    response = oai.chat.completions.create(model="qwen-plus", messages=HELLO)

    assert response.object == "chat.completion"
    assert response.id == f"chatcmpl-{emulator.last_request()['request_id']}"
    assert response.model == "qwen-plus"
    assert response.created > 0
    (choice,) = response.choices
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content.endswith("one two three four five six seven eight")
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens > 0


def test_the_callers_key_is_never_forwarded(oai, emulator):
    oai.chat.completions.create(model="qwen-flash", messages=HELLO)
    seen = emulator.last_request()
    assert seen["api_key"] == FAKE_KEY
    assert CALLER_KEY not in json.dumps(seen)


def test_every_mapped_parameter_reaches_dashscope(oai, emulator):
    oai.chat.completions.create(
        model="qwen-max",
        messages=[{"role": "developer", "content": "Be brief."}, *HELLO],
        temperature=0.5,
        top_p=0.9,
        max_tokens=120,
        seed=42,
        stop=["\n\n", "END"],
        presence_penalty=0.5,
        parallel_tool_calls=False,
        user="end-user-17",
        n=1,
        frequency_penalty=0,
        extra_body={"top_k": 40, "enable_search": True, "repetition_penalty": 1.05, "enable_thinking": False},
    )
    sent = upstream(emulator)
    assert sent["model"] == "qwen-max"
    assert sent["input"]["messages"][0] == {"role": "system", "content": "Be brief."}
    expected = {
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 120,
        "seed": 42,
        "stop": ["\n\n", "END"],
        "presence_penalty": 0.5,
        "parallel_tool_calls": False,
        "top_k": 40,
        "enable_search": True,
        "repetition_penalty": 1.05,
        "enable_thinking": False,
        "result_format": "message",
    }
    assert {name: sent["parameters"].get(name) for name in expected} == expected
    # Neutral values and the end user are not DashScope parameters.
    for absent in ("n", "frequency_penalty", "user"):
        assert absent not in sent["parameters"]


def test_max_completion_tokens_is_max_tokens(oai, emulator):
    response = oai.chat.completions.create(model="qwen-flash", messages=HELLO, max_completion_tokens=3)
    assert upstream(emulator)["parameters"]["max_tokens"] == 3
    assert response.choices[0].finish_reason == "length"


def test_content_parts_become_text(oai, emulator):
    oai.chat.completions.create(
        model="qwen-flash",
        messages=[{"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]}],
    )
    assert upstream(emulator)["input"]["messages"] == [{"role": "user", "content": "first\nsecond"}]


def collect(stream):
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return chunks, text


def test_streaming_without_usage(oai):
    whole = oai.chat.completions.create(model="qwen-flash", messages=HELLO).choices[0].message.content
    chunks, text = collect(oai.chat.completions.create(model="qwen-flash", messages=HELLO, stream=True))

    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert text == whole
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 2
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_streaming_with_usage(oai):
    chunks, _ = collect(
        oai.chat.completions.create(model="qwen-flash", messages=HELLO, stream=True, stream_options={"include_usage": True})
    )
    *rest, last = chunks
    assert last.choices == [] and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert rest[-1].choices[0].finish_reason == "stop"


def test_tool_call_round_trip(oai, emulator):
    question = [{"role": "user", "content": "杭州天气怎么样?"}]
    first = oai.chat.completions.create(model="qwen-plus", messages=question, tools=WEATHER_TOOLS, tool_choice="auto")

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_current_weather"
    assert json.loads(call.function.arguments) == {"location": "杭州天气怎么样?"}

    history = [
        *question,
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "杭州今天晴,24摄氏度。"},
    ]
    second = oai.chat.completions.create(model="qwen-plus", messages=history, tools=WEATHER_TOOLS)

    sent = upstream(emulator)["input"]["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id
    assert sent[1]["tool_calls"][0]["function"] == {"name": call.function.name, "arguments": call.function.arguments}
    assert sent[2]["tool_call_id"] == call.id
    assert sent[2]["name"] == "get_current_weather"  # DashScope needs it; OpenAI does not send it
    assert "24摄氏度" in second.choices[0].message.content
    assert second.choices[0].finish_reason == "stop"


def test_tool_call_in_a_stream(oai):
    chunks, _ = collect(
        oai.chat.completions.create(
            model="qwen-plus", messages=[{"role": "user", "content": "北京?"}], tools=WEATHER_TOOLS, stream=True
        )
    )
    calls = [call for c in chunks if c.choices for call in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].index == 0 and calls[0].function.name == "get_current_weather" and calls[0].id
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_json_mode(oai, emulator):
    response = oai.chat.completions.create(
        model="qwen-plus", messages=[{"role": "user", "content": "give me JSON"}], response_format={"type": "json_object"}
    )
    assert upstream(emulator)["parameters"]["response_format"] == {"type": "json_object"}
    assert json.loads(response.choices[0].message.content)["answer"]


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"temperature": 2.5}, "temperature"),
        ({"n": 5}, "n"),
        ({"frequency_penalty": 0.5}, "frequency_penalty"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"max_tokens": 10, "max_completion_tokens": 20}, "max_completion_tokens"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"extra_body": {"base_address": "http://elsewhere.example"}}, "base_address"),
    ],
)
def test_what_dashscope_cannot_honour_is_a_bad_request(oai, emulator, kwargs, param):
    emulator.clear()
    with pytest.raises(openai.BadRequestError) as raised:
        oai.chat.completions.create(model="qwen-flash", messages=HELLO, **kwargs)
    error = raised.value.body
    assert raised.value.status_code == 400
    assert error["type"] == "invalid_request_error" and error["param"] == param and param in error["message"]
    assert emulator.history == []


def test_image_parts_are_refused_by_name(oai):
    # qwen-flash lives on DashScope's text endpoint: the 400 names the model (issue 12).
    with pytest.raises(openai.BadRequestError, match="'qwen-flash' is served on DashScope's text endpoint"):
        oai.chat.completions.create(
            model="qwen-flash",
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}],
        )


def test_models(oai):
    ids = [model.id for model in oai.models.list()]
    assert ids[0] == "qwen-plus" and {"qwen-flash", "qwen-max"} <= set(ids)  # the default first
    assert oai.models.retrieve("qwen-plus").id == "qwen-plus"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("gpt-4o")


# DashScope refusing the function's own key is the owner's fault: a 503 server error, never the
# AuthenticationError that would make a client blame its own api_key (tests/app/test_key_refused.py).
