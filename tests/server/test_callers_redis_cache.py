"""The Redis caller store (a real redis-server) with DashScope's context cache: cached and
cache-creation input tokens counted apart, priced as DashScope bills them, shown by `scripts/callers usage`."""

from __future__ import annotations

import json

import pytest

from core.callers import build_store
from tests.server.test_callers_redis import run_cli, server, url  # noqa: F401 - fixtures

EXPLICIT_CREATED = {"input_tokens": 1500, "output_tokens": 100, "prompt_tokens_details": {
    "cached_tokens": 0, "cache_creation_input_tokens": 1200,
    "cache_creation": {"ephemeral_5m_input_tokens": 1200}, "cache_type": "ephemeral"}}
EXPLICIT_HIT = {"input_tokens": 1500, "output_tokens": 100, "prompt_tokens_details": {
    "cached_tokens": 1200, "cache_creation_input_tokens": 0,
    "cache_creation": {"ephemeral_5m_input_tokens": 0}, "cache_type": "ephemeral"}}
IMPLICIT_HIT = {"prompt_tokens": 1000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 800}}


def test_cached_and_created_tokens_are_counted_apart_and_priced(url: str) -> None:  # noqa: F811
    store = build_store(redis_url=url, model_prices="qwen-plus:input=1,output=2;qwen-flash:input=1,output=2,implicit_hit_ratio=0.5")
    caller, _ = store.add("cached")
    for usage in (EXPLICIT_CREATED, EXPLICIT_HIT):
        store.admit(caller, "qwen-plus")
        store.settle(caller, "qwen-plus", usage)
    store.settle(caller, "qwen-flash", IMPLICIT_HIT)
    rows = {row.model: row for row in store.usage("cached")}
    plus, flash = rows["qwen-plus"], rows["qwen-flash"]
    assert (plus.input_tokens, plus.cached_input_tokens, plus.cache_creation_input_tokens) == (3000, 1200, 1200)
    # 300 + 1,200 created at 125%, then 300 + 1,200 hit at 10%; 200 output tokens at 2.
    assert plus.cost == pytest.approx((300 + 1500 + 300 + 120 + 400) / 1000)
    assert (flash.cached_input_tokens, flash.cache_creation_input_tokens) == (800, 0)
    assert flash.cost == pytest.approx((200 + 800 * 0.5 + 200) / 1000)  # the ratio MODEL_PRICES set

    listed = run_cli(url, "usage", "--json", "cached")
    assert listed.returncode == 0, listed.stderr
    by_model = {row["model"]: row for row in json.loads(listed.stdout)}
    assert by_model["qwen-plus"]["cached_input_tokens"] == 1200
    assert by_model["qwen-plus"]["cache_creation_input_tokens"] == 1200
    table = run_cli(url, "usage", "cached").stdout.splitlines()
    assert "CACHED" in table[0] and "CACHE-WRITE" in table[0]
    assert any(line.split()[2] == "qwen-plus" and line.split()[5:7] == ["1200", "1200"] for line in table[1:])
