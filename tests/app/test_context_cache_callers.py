"""Callers' usage with DashScope's context cache, in-process store (CALLERS): cached and
cache-creation input tokens counted apart, and priced as DashScope bills them (explicit creation at
125% of the input price, an explicit hit at 10%, an implicit hit at 20%)."""

from __future__ import annotations

import dataclasses

import pytest

from app import create_app
from core.callers import new_key
from web.services import EXTENSION_KEY

LONG = " ".join(f"clause{n}" for n in range(1100))  # 1,100 emulator tokens
PREFIX = " ".join(f"rule{n}" for n in range(300))  # over the implicit cache's 256
MARKED = {"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}
PRICES = "qwen-plus:input=1,output=2;qwen-flash:input=1,output=2"  # CNY per 1,000 tokens: easy sums


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def client(config, key, emulator):
    emulator.clear()
    app = create_app(dataclasses.replace(config, callers=f"cache-user:{key}", model_prices=PRICES))
    return app.test_client()


def rows(client) -> dict:
    store = client.application.extensions[EXTENSION_KEY].callers
    return {row.model: row for row in store.usage("cache-user")}


def test_explicit_creation_and_hit_counted_apart_and_priced(client, key):
    auth = {"Authorization": f"Bearer {key}"}
    for question, stream in (("first", False), ("second", True)):  # a stream settles at its end
        body = {"model": "qwen-plus", "stream": stream,
                "messages": [{"role": "system", "content": [MARKED]}, {"role": "user", "content": question}]}
        answer = client.post("/v1/chat/completions", json=body, headers=auth)
        assert answer.status_code == 200 and ("[DONE]" in answer.text) == stream
    row = rows(client)["qwen-plus"]
    assert (row.requests, row.cached_input_tokens, row.cache_creation_input_tokens) == (2, 1100, 1100)
    inputs, outputs = row.input_tokens, row.output_tokens
    # Created: 1,100 at 125% (+ the rest of the first input at 100%); hit: 1,100 at 10% (+ the rest).
    expected = ((inputs - 2200) + 1100 * 1.25 + 1100 * 0.1 + outputs * 2) / 1000
    assert row.cost == pytest.approx(expected)
    assert row.as_dict()["cached_input_tokens"] == 1100


def test_an_implicit_hit_is_priced_at_a_fifth_on_invoke(client, key):
    auth = {"Authorization": f"Bearer {key}"}
    for question in ("one", "two"):
        body = {"model": "qwen-flash", "messages": [{"role": "system", "content": PREFIX}, {"role": "user", "content": question}]}
        answer = client.post("/invoke", json=body, headers=auth)
        assert answer.status_code == 200
    assert answer.json["usage"]["prompt_tokens_details"] == {"cached_tokens": 300}
    row = rows(client)["qwen-flash"]
    assert (row.cached_input_tokens, row.cache_creation_input_tokens) == (300, 0)
    assert row.cost == pytest.approx(((row.input_tokens - 300) + 300 * 0.2 + row.output_tokens * 2) / 1000)
