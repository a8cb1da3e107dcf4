"""DashScope's context cache through every door, as its users meet it: the `openai` client on /v1,
the `dashscope` SDK on the native door, plain HTTP on /invoke; the function under gunicorn in front
of the emulator, which caches as Model Studio's "Context Cache" page says (scripts/emulator/cache.py).

A marked prefix creates a cache on the first call and is hit by the next; the marker reaches
DashScope on the part that carried it; usage says what was cached and created, streamed or not."""

from __future__ import annotations

import json

import openai
import pytest
import requests
from dashscope import Generation, MultiModalConversation
from openai import OpenAI

from tests.conftest import reached, sse_events

pytestmark = pytest.mark.server

# 1,100 emulator tokens: over the explicit cache's 1,024.
LONG = " ".join(f"clause{n}" for n in range(1100))
MARKER = {"type": "ephemeral"}
CREATED = {"cached_tokens": 0, "cache_creation_input_tokens": 1100,
           "cache_creation": {"ephemeral_5m_input_tokens": 1100}, "cache_type": "ephemeral"}
HIT = {"cached_tokens": 1100, "cache_creation_input_tokens": 0,
       "cache_creation": {"ephemeral_5m_input_tokens": 0}, "cache_type": "ephemeral"}


def marked(question: str, part: dict | None = None) -> list[dict]:
    """A long system prompt marked for the cache, then a question."""
    part = part or {"type": "text", "text": LONG, "cache_control": MARKER}
    return [{"role": "system", "content": [part]}, {"role": "user", "content": question}]


@pytest.fixture
def fresh(emulator):
    emulator.clear()  # the history and the emulator's context cache
    return emulator


@pytest.fixture
def oai(server) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="any", max_retries=0, timeout=30)


def details(usage) -> dict:
    return usage.prompt_tokens_details.model_dump(exclude_none=True)


def test_openai_text_model_creates_then_hits_and_the_marker_reaches_dashscope_on_its_part(oai, fresh):
    first = oai.chat.completions.create(model="qwen-plus", messages=marked("first question"))
    assert details(first.usage) == CREATED
    # The part as it came (a text model's message with a marker keeps its parts form).
    sent = reached(fresh, "first question")["body"]["input"]["messages"][0]
    assert sent == {"role": "system", "content": [{"type": "text", "text": LONG, "cache_control": MARKER}]}

    second = oai.chat.completions.create(model="qwen-plus", messages=marked("second question"))
    assert details(second.usage) == HIT
    assert second.usage.prompt_tokens_details.cached_tokens == 1100


def test_openai_stream_usage_chunk_says_what_was_cached(oai, fresh):
    def streamed_usage(question: str):
        chunks = list(oai.chat.completions.create(model="qwen-plus", messages=marked(question), stream=True,
                                                  stream_options={"include_usage": True}))
        (usage,) = [chunk.usage for chunk in chunks if chunk.usage is not None]
        return usage

    assert details(streamed_usage("streamed one")) == CREATED
    assert details(streamed_usage("streamed two")) == HIT


def test_openai_multimodal_model_keeps_the_marker_on_dashscopes_part(oai, fresh):
    # qwen3.6-plus lives on the multimodal endpoint: DashScope's own parts, the marker beside the text.
    oai.chat.completions.create(model="qwen3.6-plus", messages=marked("vision first"))
    seen = reached(fresh, "vision first")
    assert seen["path"].endswith("/multimodal-generation/generation")
    assert seen["body"]["input"]["messages"][0]["content"] == [{"text": LONG, "cache_control": MARKER}]
    again = oai.chat.completions.create(model="qwen3.6-plus", messages=marked("vision second"))
    assert details(again.usage) == HIT


def test_openai_implicit_hit_on_a_long_repeated_prefix(oai, fresh):
    prefix = " ".join(f"rule{n}" for n in range(300))  # over the implicit cache's 256 tokens, no marker
    ask = lambda q: oai.chat.completions.create(  # noqa: E731
        model="qwen-flash", messages=[{"role": "system", "content": prefix}, {"role": "user", "content": q}])
    assert ask("once").usage.prompt_tokens_details is None
    assert details(ask("twice").usage) == {"cached_tokens": 300}


def test_the_cache_lives_five_minutes_renewed_on_a_hit(oai, fresh):
    ask = lambda q: details(oai.chat.completions.create(model="qwen-plus", messages=marked(q)).usage)  # noqa: E731
    assert ask("t0") == CREATED
    fresh.cache.advance(240)
    assert ask("t4") == HIT  # renewed: five more minutes from here
    fresh.cache.advance(240)
    assert ask("t8") == HIT
    fresh.cache.advance(301)
    assert ask("t13") == CREATED


def test_native_door_with_the_dashscope_sdk_passes_usage_as_dashscope_sent_it(server, fresh):
    base = f"{server}/api/v1"
    first = Generation.call(model="qwen-plus", messages=marked("native first"), api_key="any", base_address=base,
                            result_format="message")
    assert first.status_code == 200, first.message
    assert first.usage["prompt_tokens_details"] == CREATED
    assert reached(fresh, "native first")["body"]["input"]["messages"][0]["content"][0]["cache_control"] == MARKER

    chunks = list(Generation.call(model="qwen-plus", messages=marked("native streamed"), api_key="any",
                                  base_address=base, result_format="message", stream=True, incremental_output=True))
    assert chunks[-1].status_code == 200 and chunks[-1].usage["prompt_tokens_details"] == HIT

    # The multimodal endpoint: DashScope's own parts, marker on the text part.
    part = {"text": LONG, "cache_control": MARKER}
    for question, expected in (("mm first", CREATED), ("mm second", HIT)):
        answer = MultiModalConversation.call(model="qwen3.6-plus", messages=marked(question, part), api_key="any",
                                             base_address=base, stream=True, incremental_output=True)
        last = list(answer)[-1]
        assert last.status_code == 200 and last.usage["prompt_tokens_details"] == expected


def test_invoke_door_passes_usage_through_streamed_and_not(server, fresh):
    body = {"model": "qwen-plus", "input": {"messages": marked("invoke first")}, "parameters": {"result_format": "message"}}
    answer = requests.post(f"{server}/invoke", json=body, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["usage"]["prompt_tokens_details"] == CREATED
    assert reached(fresh, "invoke first")["body"]["input"]["messages"][0]["content"][0]["cache_control"] == MARKER

    flat = {"model": "qwen-plus", "messages": marked("invoke streamed"), "stream": True}
    streamed = requests.post(f"{server}/invoke", json=flat, timeout=30)
    assert streamed.status_code == 200
    usages = [data["usage"] for _event, data in sse_events(streamed.text) if data.get("usage")]
    assert usages[-1]["prompt_tokens_details"] == HIT


def five_markers(question: str) -> list[dict]:
    parts = [{"type": "text", "text": f"block {n}", "cache_control": MARKER} for n in range(5)]
    return [{"role": "system", "content": parts}, {"role": "user", "content": question}]


def test_a_fifth_marker_or_another_kind_is_refused_on_every_door_naming_it(oai, server, fresh):
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.create(model="qwen-plus", messages=five_markers("too many"))
    assert refused.value.body["param"] == "messages[0].content[4].cache_control"
    assert "at most 4" in refused.value.body["message"]

    native = Generation.call(model="qwen-plus", messages=five_markers("too many"), api_key="any",
                             base_address=f"{server}/api/v1")
    assert native.status_code == 400 and "at most 4" in native.message

    wrong = [{"role": "user", "content": [{"text": "hello", "cache_control": {"type": "persistent"}}]}]
    answer = requests.post(f"{server}/invoke", json={"model": "qwen-plus", "messages": wrong}, timeout=30)
    assert answer.status_code == 400
    assert "messages[0].content[0].cache_control" in json.dumps(answer.json()) and "ephemeral" in answer.text
    assert fresh.history == []  # nothing reached DashScope
