"""The context cache's pure parts: markers checked and kept (core/cache_control.py,
core/openai_parts.py), usage read and priced (core/callers/), and the emulator's cache rules
(scripts/emulator/cache.py) on an injected clock."""

from __future__ import annotations

import pytest

from core.callers.model import Tokens
from core.callers.pricing import Price, estimated_cost, parse_prices
from core.config import Config, ConfigError
from core.errors import InvalidRequest
from handlers.openai.chat_request import parse_chat_request
from core.parameters import validate_messages
from core.openai_shapes import openai_usage
from scripts.emulator.cache import ContextCache

MARKER = {"type": "ephemeral"}
CONFIG = Config(dashscope_api_key="sk-test")


def text(value: str, marker: dict | None = MARKER) -> dict:
    part = {"type": "text", "text": value}
    return {**part, "cache_control": marker} if marker is not None else part


def test_markers_pass_unchanged_up_to_four() -> None:
    messages = [{"role": "system", "content": [text(f"part {n}") for n in range(4)]}]
    assert validate_messages(messages) is messages
    assert messages[0]["content"][3]["cache_control"] is MARKER


@pytest.mark.parametrize("marker", [{"type": "persistent"}, {}, "ephemeral", None])
def test_a_marker_of_another_kind_is_refused_naming_it(marker) -> None:
    messages = [{"role": "user", "content": [text("a"), {"text": "b", "cache_control": marker}]}]
    with pytest.raises(InvalidRequest) as refused:
        validate_messages(messages)
    assert refused.value.param == "messages[0].content[1].cache_control"
    assert '"ephemeral"' in refused.value.message


def test_a_fifth_marker_is_refused_naming_it() -> None:
    messages = [{"role": "system", "content": [text("a"), text("b")]},
                {"role": "user", "content": [text("c"), text("d", None), text("e")]},
                {"role": "user", "content": [text("f")]}]
    with pytest.raises(InvalidRequest) as refused:
        validate_messages(messages)
    assert refused.value.param == "messages[2].content[0].cache_control"
    assert "at most 4" in refused.value.message


def test_openai_text_model_keeps_parts_only_when_a_marker_is_there() -> None:
    marked = [text("long context"), text("question", None)]
    call = parse_chat_request({"model": "qwen-plus", "messages": [{"role": "user", "content": marked}]}, CONFIG).call
    assert call.messages[0]["content"] == marked  # each part as it came
    plain = [text("one", None), text("two", None)]
    call = parse_chat_request({"model": "qwen-plus", "messages": [{"role": "user", "content": plain}]}, CONFIG).call
    assert call.messages[0]["content"] == "one\ntwo"  # as before


def test_openai_multimodal_model_gets_the_marker_on_dashscopes_part() -> None:
    body = {"model": "qwen3.6-plus", "messages": [{"role": "user", "content": [text("long context")]}]}
    call = parse_chat_request(body, CONFIG).call
    assert call.messages[0]["content"] == [{"text": "long context", "cache_control": MARKER}]


def test_openai_usage_carries_dashscopes_cache_details_whole() -> None:
    details = {"cached_tokens": 1305, "cache_creation_input_tokens": 213,
               "cache_creation": {"ephemeral_5m_input_tokens": 213}, "cache_type": "ephemeral"}
    shaped = openai_usage({"input_tokens": 1524, "output_tokens": 10, "total_tokens": 1534, "prompt_tokens_details": details})
    assert shaped["prompt_tokens_details"] == details
    assert "prompt_tokens_details" not in openai_usage({"input_tokens": 1, "output_tokens": 1})


EXPLICIT = {"input_tokens": 2000, "output_tokens": 100, "prompt_tokens_details": {
    "cached_tokens": 1200, "cache_creation_input_tokens": 500,
    "cache_creation": {"ephemeral_5m_input_tokens": 500}, "cache_type": "ephemeral"}}
IMPLICIT_OPENAI = {"prompt_tokens": 2000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 1200}}


def test_tokens_count_cached_and_created_apart_from_either_shape() -> None:
    assert Tokens.from_usage(EXPLICIT) == Tokens(2000, 100, 0, 1200, 500, True)
    assert Tokens.from_usage(IMPLICIT_OPENAI) == Tokens(2000, 100, 0, 1200, 0, False)
    assert Tokens.from_usage({"input_tokens": 5}) == Tokens(5)


def test_cost_prices_hits_and_creation_as_dashscope_bills_them() -> None:
    prices = {"m": Price(1.0, 2.0)}  # CNY per 1,000 tokens
    # Explicit: 300 at 100%, 1,200 hit at 10%, 500 created at 125%; output 100 at 2.
    assert estimated_cost("m", Tokens.from_usage(EXPLICIT), prices) == pytest.approx((300 + 120 + 625 + 200) / 1000)
    # Implicit: 800 at 100%, 1,200 hit at 20%.
    assert estimated_cost("m", Tokens.from_usage(IMPLICIT_OPENAI), prices) == pytest.approx((800 + 240 + 200) / 1000)
    assert estimated_cost("m", Tokens(2000, 100), prices) == pytest.approx((2000 + 200) / 1000)


def test_model_prices_set_the_cache_ratios_and_keep_the_old_syntax() -> None:
    prices = parse_prices("qwen-plus:explicit_hit_ratio=0.05,explicit_creation_ratio=1.5;m:input=1,output=2")
    assert prices["qwen-plus"] == Price(0.004, 0.012, 0.2, 0.05, 1.5)
    assert prices["m"] == Price(1.0, 2.0, 0.2, 0.1, 1.25)
    for bad, complaint in [("m:implicit_hit_ratio=-1", "at least 0"), ("m:cached=0.1", "explicit_hit_ratio")]:
        with pytest.raises(ConfigError, match=complaint):
            Config.from_env({"MODEL_PRICES": bad, "CALLERS": ""})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def words(prefix: str, count: int) -> str:
    return " ".join(f"{prefix}{n}" for n in range(count))


def test_emulator_explicit_cache_looks_back_at_most_twenty_blocks() -> None:
    cache = ContextCache(Clock())
    head = [{"role": "system", "content": [{"text": words("a", 1100), "cache_control": MARKER}]}]
    assert cache.usage("k m", head, 1100)["cache_creation_input_tokens"] == 1100
    near = head[:1] + [{"role": "user", "content": f"turn {n}"} for n in range(18)]
    near[0] = {"role": "system", "content": words("a", 1100)}  # the same text as a string matches
    near.append({"role": "user", "content": [{"text": "question", "cache_control": MARKER}]})
    used = cache.usage("k m", near, 5000)
    assert used["cached_tokens"] == 1100 and used["cache_creation_input_tokens"] == 18 * 2 + 1
    far = [near[0]] + [{"role": "user", "content": f"other {n}"} for n in range(20)] + [near[-1]]
    assert cache.usage("k m", far, 5000)["cached_tokens"] == 0  # the cached block is 21 blocks back
    assert cache.usage("k other-model", head, 1100)["cached_tokens"] == 0  # caches are per model


def test_emulator_short_marked_prefix_creates_nothing_and_a_marked_request_is_never_implicit() -> None:
    cache = ContextCache(Clock())
    short = [{"role": "user", "content": [{"text": words("b", 500), "cache_control": MARKER}]}]
    assert cache.usage("k m", short, 500)["cache_creation_input_tokens"] == 0
    plain = [{"role": "user", "content": words("b", 500)}]
    cache.usage("k m", plain, 500)
    assert cache.usage("k m", plain, 500) == {"cached_tokens": 500}
    assert cache.usage("k m", short, 500)["cached_tokens"] == 0  # explicit: the implicit prefix does not count


def test_emulator_implicit_cache_needs_256_tokens_and_expires() -> None:
    clock = Clock()
    cache = ContextCache(clock)
    small = [{"role": "user", "content": words("c", 255)}]
    cache.usage("k m", small, 255)
    assert cache.usage("k m", small, 255) is None
    big = [{"role": "system", "content": words("d", 256)}, {"role": "user", "content": "x"}]
    cache.usage("k m", big, 257)
    assert cache.usage("k m", big[:1] + [{"role": "user", "content": "y"}], 257) == {"cached_tokens": 256}
    clock.now += 301
    assert cache.usage("k m", big, 257) is None
