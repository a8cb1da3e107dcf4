"""The Responses door as its users meet it: the official `openai` package's `client.responses` over a
real socket to the function under gunicorn, in front of the emulator (typed Response objects, the
client's own event classes and exceptions). The mapping's details are tests/unit/test_responses_*.py."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Iterator

import openai
import pytest
from openai import OpenAI
from pydantic import BaseModel

from scripts.fc_process import start_like_fc, stop
from tests.conftest import ROOT, function_env
from tests.redis_fixture import RedisServer

pytestmark = pytest.mark.server

WEATHER = {
    "type": "function", "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def oai(server) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="any-key", max_retries=0, timeout=30)


def sent(emulator) -> dict:
    return emulator.last_request()["body"]


def test_text_with_instructions(oai, emulator):
    response = oai.responses.create(model="qwen-plus", input="one two three", instructions="Be brief.",
                                    max_output_tokens=50, temperature=0.5, top_p=0.9, metadata={"ticket": "17"})

    assert response.object == "response" and response.status == "completed" and response.id.startswith("resp_")
    assert response.output_text == "This is the DashScope emulator (qwen-plus). You said: one two three"
    assert response.metadata == {"ticket": "17"} and response.instructions == "Be brief."
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens > 0
    assert response.usage.input_tokens_details.cached_tokens == 0
    body = sent(emulator)
    assert body["model"] == "qwen-plus"
    assert body["input"]["messages"] == [{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": "one two three"}]
    assert {k: body["parameters"][k] for k in ("max_tokens", "temperature", "top_p")} == {
        "max_tokens": 50, "temperature": 0.5, "top_p": 0.9}


def test_a_function_call_round_trip(oai, emulator):
    first = oai.responses.create(model="qwen-plus", input="weather in Hangzhou?", tools=[WEATHER], store=False)
    (call,) = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "weather in Hangzhou?"}
    assert sent(emulator)["parameters"]["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "The weather in a city", "parameters": WEATHER["parameters"]}}]

    second = oai.responses.create(model="qwen-plus", tools=[WEATHER], input=[
        {"role": "user", "content": "weather in Hangzhou?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"},
    ])
    assert second.output_text == "The tool answered: sunny, 21 C"
    messages = sent(emulator)["input"]["messages"]
    assert messages[1]["tool_calls"][0]["id"] == call.call_id
    assert messages[2] == {"role": "tool", "content": "sunny, 21 C", "tool_call_id": call.call_id, "name": "get_weather"}


def test_previous_response_id_continues_the_conversation_and_get_delete_work(oai, emulator):
    first = oai.responses.create(model="qwen-flash", input="my name is Ada")
    second = oai.responses.create(model="qwen-flash", input="what is my name?", previous_response_id=first.id)
    assert sent(emulator)["input"]["messages"] == [
        {"role": "user", "content": "my name is Ada"},
        {"role": "assistant", "content": first.output_text},
        {"role": "user", "content": "what is my name?"},
    ]
    assert second.previous_response_id == first.id

    assert oai.responses.retrieve(first.id).output_text == first.output_text
    oai.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError, match="not found"):
        oai.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError) as raised:
        oai.responses.create(model="qwen-flash", input="again", previous_response_id=first.id)
    assert raised.value.param == "previous_response_id"


def test_store_false_keeps_nothing(oai):
    response = oai.responses.create(model="qwen-flash", input="forget me", store=False)
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve(response.id)


def test_streaming_with_the_event_sequence(oai):
    events = list(oai.responses.create(model="qwen3.6-plus", input="one two three", stream=True))

    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    reasoning = kinds.index("response.reasoning_summary_text.delta")
    text = kinds.index("response.output_text.delta")
    assert kinds[reasoning - 2:reasoning] == ["response.output_item.added", "response.reasoning_summary_part.added"]
    assert kinds[text - 2:text] == ["response.output_item.added", "response.content_part.added"]
    assert kinds[-4:-1] == ["response.output_text.done", "response.content_part.done", "response.output_item.done"]
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    final = events[-1].response
    assert final.output_text == deltas == "This is the DashScope emulator (qwen3.6-plus). You said: one two three"
    assert final.output[0].type == "reasoning" and final.output[0].summary[0].text.startswith("The user said")
    assert final.usage.output_tokens_details.reasoning_tokens > 0
    assert oai.responses.retrieve(final.id).output_text == deltas  # a stream is stored too


def test_streamed_function_call_arguments(oai):
    with oai.responses.stream(model="qwen-plus", input="weather in Hangzhou?", tools=[WEATHER]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    (call,) = final.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "weather in Hangzhou?"}


def test_a_failure_mid_stream_is_response_failed(oai):
    events = list(oai.responses.create(model="qwen-plus", input="hi [[emulate cut_after=2]]", stream=True))
    assert events[-1].type == "response.failed"
    assert events[-1].response.status == "failed" and events[-1].response.error.message


class Answer(BaseModel):
    city: str
    sunny: bool


def test_parse_with_a_pydantic_schema(oai, emulator):
    parsed = oai.responses.parse(model="qwen-plus", input="Hangzhou", text_format=Answer)
    assert isinstance(parsed.output_parsed, Answer)
    response_format = sent(emulator)["parameters"]["response_format"]
    assert response_format["type"] == "json_schema" and response_format["json_schema"]["name"] == "Answer"


@pytest.mark.parametrize("stream", [False, True])
def test_a_retired_model_is_the_clients_not_found_error(oai, emulator, stream):
    emulator.clear()
    with pytest.raises(openai.NotFoundError, match="use `qwen-flash` instead") as raised:
        oai.responses.create(model="qwen-turbo", input="hi", stream=stream)
    assert raised.value.code == "model_not_found"
    assert emulator.history == []


@pytest.mark.parametrize("kwargs, param", [
    ({"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]}, "tools[0].type"),
    ({"background": True}, "background"),
    ({"extra_body": {"frobnicate": 1}}, "frobnicate"),
])
def test_what_the_door_cannot_serve_is_a_bad_request_naming_it(oai, kwargs, param):
    with pytest.raises(openai.BadRequestError) as raised:
        oai.responses.create(model="qwen-plus", input="hi", **kwargs)
    assert raised.value.param == param


def test_web_search_turns_dashscope_search_on_with_citations(oai, emulator):
    response = oai.responses.create(model="qwen-plus", input="news today", tools=[{"type": "web_search"}])
    parameters = sent(emulator)["parameters"]
    assert parameters["enable_search"] is True
    assert parameters["search_options"]["enable_citation"] is True
    (message,) = response.output
    for annotation in message.content[0].annotations:
        assert annotation.type == "url_citation" and annotation.url.startswith("http")


OWNER = "owner-token-responses"


def callers(redis_server: RedisServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), *args], capture_output=True, text=True,
                          env={"REDIS_URL": redis_server.url, "PATH": "/usr/bin:/bin"}, timeout=30, check=True)


@pytest.fixture(scope="module")
def with_callers(emulator, redis_server: RedisServer) -> Iterator[tuple[str, str, str]]:
    limited = callers(redis_server, "add", "app", "--rpm", "2").stdout.split()[-1]
    other = callers(redis_server, "add", "other").stdout.split()[-1]
    env = function_env(emulator, INVOKE_TOKEN=OWNER, REDIS_URL=redis_server.url)
    process, url = start_like_fc(env)
    yield url, limited, other
    stop(process)


def test_a_callers_limits_and_usage_hold_and_it_sees_only_its_own_responses(with_callers, redis_server):
    url, limited, other = with_callers
    app = OpenAI(base_url=f"{url}/v1", api_key=limited, max_retries=0, timeout=30)
    stranger = OpenAI(base_url=f"{url}/v1", api_key=other, max_retries=0, timeout=30)
    first = app.responses.create(model="qwen-flash", input="one two three")
    with pytest.raises(openai.NotFoundError):
        stranger.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        stranger.responses.create(model="qwen-flash", input="x", previous_response_id=first.id)
    second = app.responses.create(model="qwen-flash", input="again", previous_response_id=first.id, stream=True)
    final = [event for event in second][-1].response
    with pytest.raises(openai.RateLimitError):
        app.responses.create(model="qwen-flash", input="a third in the minute")
    assert app.responses.retrieve(first.id).id == first.id  # reading is not a call

    (row,) = json.loads(callers(redis_server, "usage", "--json", "app").stdout)
    assert row["requests"] == 2  # the refused one is not counted
    assert row["input_tokens"] == first.usage.input_tokens + final.usage.input_tokens
    assert row["output_tokens"] == first.usage.output_tokens + final.usage.output_tokens
    assert redis_server.client().keys("{qfc}:conv:app:*")  # kept in Redis, under the caller's name
