"""The owner's rules on a call (core/policy.py): ALLOWED_MODELS, MAX_TOKENS_CAP and a key to call
with, returning the call to make and the notes for the log line."""

from __future__ import annotations

import pytest

from core.config import Config
from core.errors import InvalidRequest, ServiceNotConfigured
from core.policy import apply_owner_policy
from core.types import GenerationCall


KEYED = Config(dashscope_api_key="sk-unit-test-key")


def call(model: str = "qwen-flash", **parameters) -> GenerationCall:
    return GenerationCall(model, prompt="hi", parameters=parameters)


def test_without_rules_the_call_is_unchanged():
    given = call(max_tokens=5000)
    assert apply_owner_policy(given, KEYED) == (given, {})


def test_a_model_outside_allowed_models_is_refused():
    config = Config(dashscope_api_key="k", allowed_models=("qwen-flash", "qwen-plus"))
    with pytest.raises(InvalidRequest) as raised:
        apply_owner_policy(call("qwen-max"), config)
    assert raised.value.param == "model" and "qwen-max" in raised.value.message and "qwen-flash, qwen-plus" in raised.value.message
    assert apply_owner_policy(call("qwen-plus"), config)[0].model == "qwen-plus"


@pytest.mark.parametrize("asked, sent, notes", [(5000, 300, {"max_tokens_clamped_from": 5000}), (None, 300, {"max_tokens_clamped_from": None}), (100, 100, {})])
def test_max_tokens_is_clamped_to_the_cap_and_the_notes_say_so(asked, sent, notes):
    given = call(**({"max_tokens": asked} if asked else {}), temperature=0.5)
    made, said = apply_owner_policy(given, Config(dashscope_api_key="k", max_tokens_cap=300))
    assert made.parameters == {"temperature": 0.5, "max_tokens": sent} and said == notes
    assert given.parameters.get("max_tokens") == asked  # the caller's call is not changed in place


def test_no_key_is_the_owners_503():
    with pytest.raises(ServiceNotConfigured) as raised:
        apply_owner_policy(call(), Config())
    assert raised.value.status == 503 and raised.value.code == "ApiKeyNotConfigured"
