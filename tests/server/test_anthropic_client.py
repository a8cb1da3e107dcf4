"""The Anthropic door as its users meet it: the official `anthropic` package over a real socket to the
function under gunicorn (started as FC starts it, with ANTHROPIC_MODEL_MAP, INVOKE_TOKEN and callers
in a real Redis), in front of the emulator. Claude Code itself: tests/server/test_claude_code.py."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Iterator

import anthropic
import pytest
import requests
from anthropic import Anthropic

from scripts.fc_process import start_like_fc, stop
from tests.conftest import ROOT, function_env, sent_to_dashscope, sse_events
from tests.redis_fixture import RedisServer

pytestmark = pytest.mark.server

OWNER = "owner-token-anthropic-door"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture(scope="module")
def function(emulator, redis_server: RedisServer) -> Iterator[str]:
    env = function_env(emulator, INVOKE_TOKEN=OWNER, REDIS_URL=redis_server.url, UPSTREAM_RETRIES="0",
                       ANTHROPIC_MODEL_MAP="claude-*haiku*=qwen-flash,claude-*=qwen3.6-plus")
    process, url = start_like_fc(env)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def bare_function(emulator) -> Iterator[str]:
    """The function without ANTHROPIC_MODEL_MAP."""
    process, url = start_like_fc(function_env(emulator, INVOKE_TOKEN=OWNER))
    yield url
    stop(process)


def client(url: str, key: str = OWNER) -> Anthropic:
    return Anthropic(base_url=url, api_key=key, max_retries=0, timeout=30)


def callers(redis_server: RedisServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), *args], capture_output=True, text=True,
                          env={"REDIS_URL": redis_server.url, "PATH": "/usr/bin:/bin"}, timeout=30, check=False)


def test_create_answers_a_message_with_usage(function, emulator):
    message = client(function).messages.create(
        model="qwen-plus", max_tokens=200, system="Be brief.", stop_sequences=["END"], metadata={"user_id": "end-user-7"},
        extra_body={"temperature": 0.5, "top_p": 0.9, "top_k": 20},  # (this SDK version has no arguments for them)
        messages=[{"role": "user", "content": "create marker one two three"}],
    )
    assert message.type == "message" and message.role == "assistant" and message.model == "qwen-plus"
    assert message.id.startswith("msg_")
    (block,) = message.content
    assert block.type == "text" and block.text.endswith("create marker one two three")
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.usage.cache_read_input_tokens == 0 and message.usage.cache_creation_input_tokens == 0
    sent = sent_to_dashscope(emulator, "create marker")
    assert sent["input"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert {k: sent["parameters"][k] for k in ("max_tokens", "temperature", "top_p", "top_k", "stop")} == {
        "max_tokens": 200, "temperature": 0.5, "top_p": 0.9, "top_k": 20, "stop": ["END"]}
    assert "end-user-7" not in json.dumps(sent)  # metadata is for the log line, not for DashScope


def test_max_tokens_is_the_stop_reason_when_the_answer_is_cut(function):
    message = client(function).messages.create(model="qwen-flash", max_tokens=3,
                                               messages=[{"role": "user", "content": "a b c d e f g h"}])
    assert message.stop_reason == "max_tokens"


def test_a_stream_sends_anthropics_event_sequence_and_the_helper_assembles_it(function):
    with client(function).messages.stream(model="qwen-flash", max_tokens=200,
                                          messages=[{"role": "user", "content": "stream one two three"}]) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start"
    raw = [e for e in events if e not in ("text",)]  # the helper adds its own `text` events
    assert raw[-2:] == ["message_delta", "message_stop"]
    assert raw[1:3] == ["content_block_start", "content_block_delta"]
    assert "content_block_stop" in raw
    assert final.content[0].type == "text" and final.content[0].text.endswith("stream one two three")
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


def test_the_wire_stream_has_a_ping_after_message_start_with_or_without_beta(function):
    # (The SDK swallows ping events: read the wire.)
    for path in ("/v1/messages", "/v1/messages?beta=true"):
        answer = requests.post(f"{function}{path}", timeout=30, headers={
            "x-api-key": OWNER, "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219"},
            json={"model": "qwen-flash", "max_tokens": 100, "stream": True,
                  "messages": [{"role": "user", "content": "raw stream"}]})
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/event-stream")
        events = sse_events(answer.text)
        assert [name for name, _ in events[:2]] == ["message_start", "ping"]
        assert [name for name, _ in events[-3:]] == ["content_block_stop", "message_delta", "message_stop"]
        assert all(data["type"] == name for name, data in events)


def test_a_tool_round_trip(function, emulator):
    api = client(function)
    asked = [{"role": "user", "content": "Hangzhou"}]
    first = api.messages.create(model="qwen-plus", max_tokens=200, tools=[WEATHER], messages=asked)
    assert first.stop_reason == "tool_use"
    (call,) = [block for block in first.content if block.type == "tool_use"]
    assert call.id.startswith("toolu_") and call.name == "get_weather" and call.input == {"city": "Hangzhou"}
    sent = emulator.last_request()["body"]["parameters"]["tools"]
    assert sent == [{"type": "function", "function": {"name": "get_weather", "description": "The weather in a city",
                                                      "parameters": WEATHER["input_schema"]}}]

    answer = api.messages.create(model="qwen-plus", max_tokens=200, tools=[WEATHER], messages=[
        *asked,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21 °C"}]},
    ])
    assert answer.stop_reason == "end_turn"
    assert answer.content[0].text == "The tool answered: sunny, 21 °C"
    history = emulator.last_request()["body"]["input"]["messages"]
    assert history[-2]["tool_calls"][0]["id"] == call.id
    assert history[-1] == {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": "sunny, 21 °C"}


def test_a_streamed_tool_call_arrives_as_input_json_deltas(function):
    with client(function).messages.stream(model="qwen-plus", max_tokens=200, tools=[WEATHER],
                                          tool_choice={"type": "tool", "name": "get_weather"},
                                          messages=[{"role": "user", "content": "Beijing"}]) as stream:
        deltas = [event.delta.type for event in stream if event.type == "content_block_delta"]
        final = stream.get_final_message()
    assert "input_json_delta" in deltas
    assert final.content[-1].type == "tool_use" and final.content[-1].input == {"city": "Beijing"}
    assert final.stop_reason == "tool_use"


def test_thinking_becomes_thinking_blocks_streamed_and_not(function, emulator):
    api = client(function)
    thinking = {"type": "enabled", "budget_tokens": 1024}
    message = api.messages.create(model="qwen3.6-plus", max_tokens=2000, thinking=thinking,
                                  messages=[{"role": "user", "content": "think marker"}])
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[0].thinking.startswith("The user said: think marker") and message.content[0].signature
    parameters = sent_to_dashscope(emulator, "think marker")["parameters"]
    assert parameters["enable_thinking"] is True and parameters["thinking_budget"] == 1024

    with api.messages.stream(model="qwen3.6-plus", max_tokens=2000, thinking=thinking,
                             messages=[{"role": "user", "content": "think again"}]) as stream:
        deltas = [event.delta.type for event in stream if event.type == "content_block_delta"]
        final = stream.get_final_message()
    assert "thinking_delta" in deltas and "signature_delta" in deltas and "text_delta" in deltas
    assert final.content[0].type == "thinking" and final.content[0].thinking.startswith("The user said: think again")

    api.messages.create(model="qwen3.6-plus", max_tokens=100, thinking={"type": "disabled"},
                        messages=[{"role": "user", "content": "no thinking marker"}])
    assert sent_to_dashscope(emulator, "no thinking marker")["parameters"]["enable_thinking"] is False


def test_claude_names_map_through_the_setting(function, emulator):
    message = client(function).messages.create(model="claude-3-5-haiku-latest", max_tokens=100,
                                               messages=[{"role": "user", "content": "mapped haiku"}])
    assert message.model == "claude-3-5-haiku-latest"  # the name the caller sent, as Anthropic echoes it
    assert sent_to_dashscope(emulator, "mapped haiku")["model"] == "qwen-flash"
    client(function).messages.create(model="claude-sonnet-4-5", max_tokens=100,
                                     messages=[{"role": "user", "content": "mapped sonnet"}])
    assert sent_to_dashscope(emulator, "mapped sonnet")["model"] == "qwen3.6-plus"


def test_count_tokens_counts_system_messages_and_tools(function):
    api = client(function)
    plain = api.messages.count_tokens(model="qwen-plus", messages=[{"role": "user", "content": "one two three"}])
    more = api.messages.count_tokens(model="qwen-plus", system="Be brief.", tools=[WEATHER],
                                     messages=[{"role": "user", "content": "one two three"}])
    assert plain.input_tokens > 0 and more.input_tokens > plain.input_tokens


def test_errors_are_the_sdks_own_exceptions(function, bare_function):
    hello = [{"role": "user", "content": "hello"}]
    with pytest.raises(anthropic.AuthenticationError) as refused:
        client(function, "wrong-token").messages.create(model="qwen-plus", max_tokens=10, messages=hello)
    assert refused.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as retired:
        client(function).messages.create(model="qwen-turbo", max_tokens=10, messages=hello)
    assert "retired" in retired.value.body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError) as bad:
        client(function).messages.create(model="qwen-plus", max_tokens=10, messages=hello, extra_body={"temperature": 5})
    assert bad.value.body["type"] == "error" and "temperature" in bad.value.body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError):
        client(function).messages.create(model="qwen-plus", max_tokens=10, messages=hello,
                                         extra_body={"no_such_field": 1})
    with pytest.raises(anthropic.NotFoundError) as unmapped:
        client(bare_function).messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=hello)
    assert unmapped.value.body["error"]["type"] == "not_found_error"
    assert "ANTHROPIC_MODEL_MAP" in unmapped.value.body["error"]["message"]


def test_a_failure_after_the_stream_started_is_an_error_event(function):
    stream = client(function).messages.create(
        model="qwen-flash", max_tokens=100, stream=True,
        messages=[{"role": "user", "content": "a b c d e f g h i j k l [[emulate fail_after=2]]"}])
    with pytest.raises(anthropic.APIStatusError) as failed:
        for _event in stream:
            pass
    assert failed.value.body["type"] == "error" and failed.value.body["error"]["type"]


def test_a_callers_limits_and_usage_hold_on_this_door(function, redis_server):
    added = callers(redis_server, "add", "anthropic-app", "--rpm", "2")
    assert added.returncode == 0, added.stderr
    key = added.stdout.split()[-1]
    api = client(function, key)
    hello = [{"role": "user", "content": "limited one two"}]
    answers = [api.messages.create(model="qwen-flash", max_tokens=50, messages=hello) for _ in range(2)]
    with pytest.raises(anthropic.RateLimitError) as limited:
        api.messages.create(model="qwen-flash", max_tokens=50, messages=hello)
    assert limited.value.body["error"]["type"] == "rate_limit_error"
    rows = json.loads(callers(redis_server, "usage", "--json", "anthropic-app").stdout)
    assert sum(row["requests"] for row in rows) == 2
    assert sum(row["input_tokens"] for row in rows) == sum(a.usage.input_tokens for a in answers)
    assert sum(row["output_tokens"] for row in rows) == sum(a.usage.output_tokens for a in answers)


def test_cache_control_creates_then_reads_dashscopes_cache_and_usage_says_so(function, emulator):
    emulator.clear()  # the emulator's context cache
    long_rules = " ".join(f"clause{n}" for n in range(1100))  # 1,100 emulator tokens: over the explicit minimum
    system = [{"type": "text", "text": long_rules, "cache_control": {"type": "ephemeral"}}]
    api = client(function)
    first = api.messages.create(model="qwen-plus", max_tokens=50, system=system,
                                messages=[{"role": "user", "content": "first cached question"}])
    assert first.usage.cache_creation_input_tokens == 1100 and first.usage.cache_read_input_tokens == 0
    sent = sent_to_dashscope(emulator, "first cached question")["input"]["messages"][0]
    assert sent == {"role": "system", "content": [{"type": "text", "text": long_rules, "cache_control": {"type": "ephemeral"}}]}
    with api.messages.stream(model="qwen-plus", max_tokens=50, system=system,
                             messages=[{"role": "user", "content": "second cached question"}]) as stream:
        second = stream.get_final_message()
    assert second.usage.cache_read_input_tokens == 1100 and second.usage.cache_creation_input_tokens == 0
    # input_tokens: what was neither read from nor written to the cache (the question), as Anthropic counts
    assert 0 < second.usage.input_tokens == first.usage.input_tokens < 10


def test_a_stream_dashscope_ends_without_finishing_ends_with_an_error_event(function):
    answer = requests.post(f"{function}/v1/messages", timeout=30, headers={"x-api-key": OWNER}, json={
        "model": "qwen-flash", "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "a b c d e f g h i j k l [[emulate end_after=2]]"}]})
    events = sse_events(answer.text)
    assert events[-1][0] == "error" and events[-1][1]["type"] == "error"
    assert "message_stop" not in [name for name, _ in events]
