"""core/models.py: endpoint, thinking and streaming rules by model name, and the owner's overrides."""

from __future__ import annotations

import pytest

from core.config import Config, ConfigError
from core.models import ModelRules, is_stream_only_error, thinking_only, thinks_by_default

RULES = ModelRules()

MULTIMODAL = [
    "qwen3-vl-flash", "qwen3-vl-plus-2025-09-23", "qwen2-vl-72b-instruct", "qwen2.5-vl-72b-instruct", "qwen3-vl-plus",
    "qwen3-vl-235b-a22b-thinking", "qwen-vl-ocr", "qwen-vl-ocr-latest", "qvq-72b-preview", "qvq-plus-latest",
    "qwen-omni-turbo", "qwen2.5-omni-7b", "qwen3-omni-flash", "qwen-audio-turbo", "qwen2-audio-instruct",
    "qwen3.5-plus", "qwen3.5-flash", "qwen3.5-397b-a17b", "qwen3.6-plus", "qwen3.7-plus", "qwen3.8-max",
    "qwen3.10-plus", "qwen4-max", "qwen10-turbo", "kimi-k2.5", "kimi-k3", "QWEN3.5-PLUS", " qwen3.5-plus ",
]
TEXT = [
    "qwen-max", "qwen-plus", "qwen-flash-2025-07-28", "qwen-flash", "qwen-plus-latest", "qwen-plus-2025-07-28", "qwen-long",
    "qwen3-max", "qwen3-max-preview", "qwen3-coder-plus", "qwen3-32b", "qwen3-235b-a22b", "qwen3-next-80b-a3b-instruct", "qwq-32b",
    "qwen-mt-plus", "qwen2.5-72b-instruct", "qwen3-235b-a22b-thinking-2507", "deepseek-r1", "deepseek-v3.2",
    "kimi-k2", "kimi-k2-thinking", "glm-4.5", "qwen", "qwen3", "qwen3.4-plus", "qwenvl-max",
    # Words that only contain a token's letters do not count.
    "qwen-evolve", "qwen-somniac",
]


@pytest.mark.parametrize("model", MULTIMODAL)
def test_multimodal_models_go_to_the_multimodal_endpoint(model: str) -> None:
    assert RULES.endpoint(model) == "multimodal"
    assert RULES.takes_media(model)


@pytest.mark.parametrize("model", TEXT)
def test_other_models_go_to_the_text_endpoint(model: str) -> None:
    assert RULES.endpoint(model) == "text"
    assert not RULES.takes_media(model)


def test_owner_settings_override_the_built_in_rules_both_ways() -> None:
    rules = ModelRules(multimodal_models=("qwen-max", "newvision-*"), text_models=("qwen3.5-mt-*", "QWEN4-TEXT"))
    assert rules.endpoint("qwen-max") == "multimodal"
    assert rules.endpoint("newvision-pro") == "multimodal"
    assert rules.endpoint("qwen3.5-mt-turbo") == "text"  # qwen3.5 would be multimodal by the built-in rule
    assert rules.endpoint("qwen4-text") == "text"  # case-insensitive
    assert rules.endpoint("qwen-plus") == "text"  # untouched models keep the built-in rules
    assert rules.endpoint("qwen3.5-plus") == "multimodal"


def test_the_more_specific_override_wins_when_both_lists_match() -> None:
    rules = ModelRules(multimodal_models=("qwen9-*",), text_models=("qwen9-mt-*", "qwen9-exact"))
    assert rules.endpoint("qwen9-plus") == "multimodal"
    assert rules.endpoint("qwen9-mt-plus") == "text"  # the longer glob
    assert rules.endpoint("qwen9-exact") == "text"  # an exact name beats any glob
    rules = ModelRules(multimodal_models=("qwen9-mt-*",), text_models=("qwen9-*",))
    assert rules.endpoint("qwen9-mt-plus") == "multimodal"


def test_settings_are_read_from_the_environment() -> None:
    config = Config.from_env({"MULTIMODAL_MODELS": "a-vision, b-*", "TEXT_MODELS": "qwen3.9-text"})
    rules = ModelRules.from_config(config)
    assert config.multimodal_models == ("a-vision", "b-*") and config.text_models == ("qwen3.9-text",)
    assert rules.endpoint("b-1") == "multimodal" and rules.endpoint("qwen3.9-text") == "text"
    assert ModelRules.from_config(Config.from_env({})).endpoint("qwen3-vl-plus") == "multimodal"


def test_a_name_in_both_settings_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="qwen-x"):
        Config.from_env({"MULTIMODAL_MODELS": "qwen-x", "TEXT_MODELS": "QWEN-X"})


@pytest.mark.parametrize(
    "model",
    ["qwq-32b", "qvq-plus", "qwen3-vl-235b-a22b-thinking", "deepseek-r1", "deepseek-r1-distill-qwen-7b", "qwen3-235b-a22b-thinking-2507",
     "qwen3-next-80b-a3b-thinking", "qwen3-vl-plus-thinking", "kimi-k2-thinking", "QwQ-32B"],
)
def test_thinking_only_models_think_whatever_the_call_says(model: str) -> None:
    assert thinking_only(model)
    assert RULES.thinks(model, {"enable_thinking": False})
    assert RULES.needs_stream(model, {})
    assert RULES.needs_stream(model, {"enable_thinking": False})


@pytest.mark.parametrize("model", ["qwen3.5-plus", "qwen3.6-flash", "qwen4-max", "qwen3-32b", "qwen3-30b-a3b",
                                   "qwen3-0.6b", "qwen3-235b-a22b", "qwen3.5-397b-a17b"])
def test_hybrid_models_that_think_by_default(model: str) -> None:
    assert thinks_by_default(model)
    assert RULES.thinks(model, {}) and RULES.needs_stream(model, {})
    assert not RULES.thinks(model, {"enable_thinking": False})
    assert not RULES.needs_stream(model, {"enable_thinking": False})
    assert not RULES.needs_stream(model, {"reasoning_effort": "none"})


@pytest.mark.parametrize("model", ["qwen-plus", "qwen-flash", "qwen-long", "qwen3-max", "qwen3-vl-plus", "qwen-max",
                                   "deepseek-v3.2"])
def test_models_that_think_only_when_asked(model: str) -> None:
    assert not RULES.thinks(model, {}) and not RULES.needs_stream(model, {})
    assert RULES.thinks(model, {"enable_thinking": True}) and RULES.needs_stream(model, {"enable_thinking": True})
    assert RULES.thinks(model, {"thinking_budget": 100})


@pytest.mark.parametrize("model", ["qwen3-coder-plus", "qwen3-235b-a22b-instruct-2507", "qwen-mt-turbo",
                                   "qwen2.5-72b-instruct", "qwen3.5-coder-plus"])
def test_instruct_coder_and_mt_models_never_think_by_default(model: str) -> None:
    assert not thinks_by_default(model) and not RULES.needs_stream(model, {})


@pytest.mark.parametrize("model", ["qwen-omni-turbo", "qwen3-omni-flash", "qwen2.5-omni-7b"])
def test_omni_models_are_always_streamed(model: str) -> None:
    assert RULES.needs_stream(model, {"enable_thinking": False})


def test_reasoning_effort_is_native_only_on_new_models() -> None:
    assert RULES.takes_reasoning_effort("qwen3.8-max") and RULES.takes_reasoning_effort("qwen4-plus")
    assert RULES.takes_reasoning_effort("deepseek-v4") and RULES.takes_reasoning_effort("deepseek-v4-flash")
    for model in ("qwen3.5-plus", "qwen3.7-plus", "qwen-plus", "deepseek-v3.2", "qwq-32b"):
        assert not RULES.takes_reasoning_effort(model)


def test_dashscope_stream_only_errors_are_recognised() -> None:
    assert is_stream_only_error(
        "This model only support stream mode, please enable the stream parameter to access the model. "
    )
    assert is_stream_only_error("parameter.enable_thinking must be set to false for non-streaming calls")
    assert is_stream_only_error("parameter.enable_thinking必须设置为false才能进行非流式调用")
    assert not is_stream_only_error("url error, please check url！")
