"""core/parameter_rules.py: reasoning_effort, temperature, pass-through checks, thinking conflicts."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.models import ModelRules
from core.parameter_rules import (
    check_passthrough,
    map_reasoning_effort,
    map_temperature,
    chat_parameters,
    resolve_thinking_conflicts,
)

RULES = ModelRules()
USER = [{"role": "user", "content": "hi"}]
REQUIRED = {"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required"}


@pytest.mark.parametrize(
    ("effort", "expected"),
    [
        ("none", {"enable_thinking": False}),
        ("minimal", {"enable_thinking": False}),
        ("low", {"enable_thinking": True, "thinking_budget": 2048}),
        ("medium", {"enable_thinking": True, "thinking_budget": 8192}),
        ("high", {"enable_thinking": True}),
        ("xhigh", {"enable_thinking": True}),
    ],
)
def test_reasoning_effort_maps_to_thinking_on_hybrid_models(effort: str, expected: dict) -> None:
    for model in ("qwen-plus", "qwen3.5-plus", "qwen3-32b"):
        given = {"reasoning_effort": effort, "temperature": 0.5}
        assert map_reasoning_effort(model, given, RULES) == {"temperature": 0.5, **expected}
        assert given == {"reasoning_effort": effort, "temperature": 0.5}


def test_thinking_only_models_get_a_budget_but_cannot_stop_thinking() -> None:
    assert map_reasoning_effort("qwen3-next-80b-a3b-thinking", {"reasoning_effort": "minimal"}, RULES) == {"thinking_budget": 512}
    assert map_reasoning_effort("qwen3-vl-235b-a22b-thinking", {"reasoning_effort": "low"}, RULES) == {"thinking_budget": 2048}
    assert map_reasoning_effort("qwen3-next-80b-a3b-thinking", {"reasoning_effort": "high"}, RULES) == {}
    with pytest.raises(InvalidRequest, match="always thinks") as refused:
        map_reasoning_effort("qwen3-next-80b-a3b-thinking", {"reasoning_effort": "none"}, RULES)
    assert refused.value.param == "reasoning_effort"


def test_models_that_never_think_take_only_no_effort() -> None:
    assert map_reasoning_effort("qwen3-coder-plus", {"reasoning_effort": "none"}, RULES) == {}
    with pytest.raises(InvalidRequest, match="does not think"):
        map_reasoning_effort("qwen3-coder-plus", {"reasoning_effort": "high"}, RULES)


def test_models_that_take_reasoning_effort_get_it_as_it_is() -> None:
    given = {"reasoning_effort": "xhigh"}
    assert map_reasoning_effort("qwen3.8-max", given, RULES) == given
    assert map_reasoning_effort("deepseek-v4", {"reasoning_effort": "none"}, RULES) == {"reasoning_effort": "none"}


@pytest.mark.parametrize(
    "given",
    [
        {"reasoning_effort": "max"},
        {"reasoning_effort": 3},
        {"reasoning_effort": "low", "thinking_budget": 100},
        {"reasoning_effort": "high", "enable_thinking": False},
        {"reasoning_effort": "none", "enable_thinking": True},
    ],
)
def test_bad_or_conflicting_reasoning_effort_is_a_400(given: dict) -> None:
    with pytest.raises(InvalidRequest) as refused:
        map_reasoning_effort("qwen-plus", given, RULES)
    assert refused.value.param == "reasoning_effort"


def test_reasoning_effort_with_a_thinking_budget_is_refused_for_native_models_too() -> None:
    # DashScope: "'reasoning_effort' and 'thinking_budget' cannot be set simultaneously".
    with pytest.raises(InvalidRequest, match="not both"):
        map_reasoning_effort("qwen3.8-max", {"reasoning_effort": "low", "thinking_budget": 100}, RULES)


def test_a_consistent_enable_thinking_is_kept() -> None:
    given = {"reasoning_effort": "low", "enable_thinking": True}
    assert map_reasoning_effort("qwen-plus", given, RULES) == {"enable_thinking": True, "thinking_budget": 2048}


def test_temperature_two_becomes_dashscopes_maximum() -> None:
    assert map_temperature({"temperature": 2}) == {"temperature": 1.99}
    assert map_temperature({"temperature": 2.0}) == {"temperature": 1.99}
    for kept in (0, 0.7, 1.99, 1.9999, 2.5, -1, True, "2"):
        assert map_temperature({"temperature": kept}) == {"temperature": kept}  # the validators judge these
    assert map_temperature({}) == {}


@pytest.mark.parametrize(
    ("given", "param"),
    [
        ({"n": 0}, "n"),
        ({"n": 5}, "n"),
        ({"n": True}, "n"),
        ({"n": "2"}, "n"),
        ({"n": 2, "tools": [{"type": "function", "function": {"name": "f"}}]}, "n"),
        ({"logprobs": "yes"}, "logprobs"),
        ({"logprobs": True, "top_logprobs": 6}, "top_logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": False, "top_logprobs": 2}, "top_logprobs"),
        ({"parallel_tool_calls": "true"}, "parallel_tool_calls"),
        ({"enable_thinking": 1}, "enable_thinking"),
        ({"thinking_budget": 0}, "thinking_budget"),
        ({"thinking_budget": 1.5}, "thinking_budget"),
        ({"search_options": ["pro"]}, "search_options"),
        ({"translation_options": "English"}, "translation_options"),
    ],
)
def test_pass_through_fields_are_checked_against_dashscopes_limits(given: dict, param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_passthrough(given)
    assert refused.value.param == param


def test_good_pass_through_fields_pass_as_they_are() -> None:
    given = {
        "n": 4, "logprobs": True, "top_logprobs": 5, "parallel_tool_calls": True, "thinking_budget": 1,
        "search_options": {"forced_search": True, "search_strategy": "pro"}, "enable_search": True,
        "translation_options": {"source_lang": "auto", "target_lang": "English"},
    }
    assert check_passthrough(given) is given
    assert check_passthrough({"n": 1, "tools": [{"type": "function", "function": {"name": "f"}}]})
    assert check_passthrough({"logprobs": False, "top_logprobs": 0})


@pytest.mark.parametrize(
    "forced",
    [
        REQUIRED,
        {"tool_choice": {"type": "function", "function": {"name": "f"}}},
        {"response_format": {"type": "json_object"}},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
    ],
)
def test_thinking_is_turned_off_when_the_call_did_not_ask_for_it(forced: dict) -> None:
    for model in ("qwen3.5-plus", "qwen3-32b"):  # they think by default
        parameters, notes = resolve_thinking_conflicts(model, forced, USER, RULES)
        assert parameters == {**forced, "enable_thinking": False}
        assert notes and "thinking turned off" in notes[0]
    # A model that does not think by default is left as it is.
    assert resolve_thinking_conflicts("qwen-plus", forced, USER, RULES) == (forced, [])


def test_partial_mode_turns_thinking_off_too() -> None:
    messages = [*USER, {"role": "assistant", "content": "Once upon", "partial": True}]
    parameters, notes = resolve_thinking_conflicts("qwen3.6-plus", {}, messages, RULES)
    assert parameters == {"enable_thinking": False} and "partial mode" in notes[0]
    with pytest.raises(InvalidRequest) as refused:
        resolve_thinking_conflicts("qwen-plus", {"enable_thinking": True}, messages, RULES)
    assert refused.value.param == "messages[1].partial"
    # Partial only counts on the last message, and only when true.
    earlier = [{"role": "assistant", "content": "x", "partial": True}, *USER]
    assert resolve_thinking_conflicts("qwen3.6-plus", {}, earlier, RULES) == ({}, [])


@pytest.mark.parametrize("asked", [{"enable_thinking": True}, {"thinking_budget": 500}, {"reasoning_effort": "high"}])
def test_explicit_thinking_with_forced_tools_is_a_400_that_says_why(asked: dict) -> None:
    for model in ("qwen3.5-plus", "qwen-plus", "qwen3.8-max"):
        with pytest.raises(InvalidRequest, match="refuses forced tool use while the model thinks") as refused:
            resolve_thinking_conflicts(model, {**REQUIRED, **asked}, USER, RULES)
        assert refused.value.param == "tool_choice"


def test_thinking_only_models_cannot_force_tools_or_json() -> None:
    with pytest.raises(InvalidRequest, match="always thinks") as refused:
        resolve_thinking_conflicts("qwen3-next-80b-a3b-thinking", {**REQUIRED, "response_format": {"type": "json_object"}}, USER, RULES)
    assert "forced tool use and JSON output" in refused.value.message and refused.value.param == "tool_choice"


def test_auto_and_none_tool_choice_and_text_format_ask_for_nothing() -> None:
    for given in ({"tool_choice": "auto"}, {"tool_choice": "none"}, {"response_format": {"type": "text"}}):
        assert resolve_thinking_conflicts("qwen3-next-80b-a3b-thinking", given, USER, RULES) == (given, [])


def test_thinking_turned_off_by_the_call_needs_no_change() -> None:
    given = {**REQUIRED, "enable_thinking": False}
    assert resolve_thinking_conflicts("qwen3.5-plus", given, USER, RULES) == (given, [])


def test_the_openai_door_applies_everything_in_order() -> None:
    parameters, notes = chat_parameters(
        "qwen3.5-plus", {"temperature": 2, "tool_choice": "required", "n": 1}, USER, RULES
    )
    assert parameters == {"temperature": 1.99, "tool_choice": "required", "n": 1, "enable_thinking": False}
    assert notes == ["thinking turned off for forced tool use"]
    # reasoning_effort none + JSON: thinking already off, nothing to resolve.
    parameters, notes = chat_parameters(
        "qwen3.5-plus", {"reasoning_effort": "none", "response_format": {"type": "json_object"}}, USER, RULES
    )
    assert parameters == {"enable_thinking": False, "response_format": {"type": "json_object"}} and notes == []
    with pytest.raises(InvalidRequest, match="refuses JSON output"):
        chat_parameters("qwen3.5-plus", {"reasoning_effort": "low", "response_format": {"type": "json_object"}},
                               USER, RULES)
