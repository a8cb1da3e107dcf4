"""core/retired_models.py: the dated table, MODEL_ALIASES as a setting, and what a call's model becomes."""

from __future__ import annotations

import re

import pytest

from core.config import Config, ConfigError
from core.errors import ModelNotFound
from core.retired_models import RETIRED, resolve_model
from core.types import EmbeddingCall, GenerationCall


def test_the_table_has_the_five_of_notice_731_with_date_replacement_and_source():
    for name in ("qwen-turbo", "qwen-vl-max", "qwen-vl-plus", "qwq-plus", "qvq-max"):
        retired = RETIRED[name]
        assert retired.retired_on == "2026-10-10" and retired.replacement and "notice 731" in retired.source
        assert retired.replacement not in RETIRED  # a replacement is itself current
        assert re.match(r"\d{4}-\d{2}-\d{2}$", retired.retired_on)


def test_model_aliases_are_read_from_the_environment():
    config = Config.from_env({"MODEL_ALIASES": " qwen-turbo = qwen-flash , QWEN-VL-MAX=qwen3.6-plus,"})
    assert config.model_aliases == (("qwen-turbo", "qwen-flash"), ("qwen-vl-max", "qwen3.6-plus"))
    assert Config.from_env({}).model_aliases == ()


@pytest.mark.parametrize("raw, said", [
    ("qwen-turbo", "must be old=new"),
    ("qwen-turbo=", "must be old=new"),
    ("=qwen-flash", "must be old=new"),
    ("a=b=c", "must be old=new"),
    ("qwen-turbo=qwen-flash,QWEN-TURBO=qwen-plus", "twice"),
    ("qwen-plus=qwen-plus", "to itself"),
    ("my-model=qwen-turbo", "retired on 2026-10-10: map it to 'qwen-flash'"),
    ("a=b,b=c", "which it maps again"),
])
def test_a_malformed_model_aliases_fails_at_start(raw, said):
    with pytest.raises(ConfigError, match=re.escape(said)):
        Config.from_env({"MODEL_ALIASES": raw})


def test_resolve_model_maps_then_checks_retirement():
    call = GenerationCall("qwen-turbo", messages=[{"role": "user", "content": "hi"}])
    mapped, notes = resolve_model(call, (("qwen-turbo", "qwen-flash"),))
    assert mapped.model == "qwen-flash" and mapped.messages == call.messages
    assert notes == {"model": "qwen-flash", "model_asked": "qwen-turbo"}
    same, notes = resolve_model(GenerationCall("qwen-plus"), (("qwen-turbo", "qwen-flash"),))
    assert same.model == "qwen-plus" and notes == {}
    with pytest.raises(ModelNotFound) as refused:
        resolve_model(EmbeddingCall("Qwen-Turbo", texts=["x"]), ())
    assert refused.value.status == 400 and refused.value.openai_status == 404 and refused.value.param == "model"
