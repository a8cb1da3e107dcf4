"""Config.from_env: every setting read from the environment, its default, and a bad value refused
at start naming the variable. Pure: no app, no emulator."""

from __future__ import annotations

import pytest

from core.config import Config, ConfigError
from tests.conftest import FAKE_KEY

TOKENS = ("first-invoke-token", "second-invoke-token")


def test_config_from_the_environment():
    config = Config.from_env(
        {
            "DASHSCOPE_API_KEY": FAKE_KEY,
            "DASHSCOPE_HTTP_BASE_URL": "http://127.0.0.1:9100/api/v1",
            "QWEN_MODEL": "qwen-max",
            "SYSTEM_PROMPT": "你是一位厨师。",
            "INVOKE_MODE": "Prompt",
            "UPSTREAM_TIMEOUT_S": "12.5",
        }
    )
    assert config.dashscope_api_key == FAKE_KEY
    assert config.default_model == "qwen-max"
    assert config.system_prompt == "你是一位厨师。"
    assert config.invoke_mode == "prompt"
    assert config.upstream_timeout_s == 12.5


def test_config_defaults():
    config = Config.from_env({})
    assert config.dashscope_api_key is None and not config.api_key_configured
    assert config.default_model == "qwen-plus"
    assert config.system_prompt == "You are a helpful assistant."
    assert config.invoke_mode == "messages"


@pytest.mark.parametrize("name, value", [("INVOKE_MODE", "chat"), ("UPSTREAM_TIMEOUT_S", "soon"), ("UPSTREAM_TIMEOUT_S", "0")])
def test_bad_configuration_is_refused_at_start(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_call_deadline_setting():
    assert Config.from_env({}).call_deadline_s == 590
    assert Config.from_env({"CALL_DEADLINE_S": "120"}).call_deadline_s == 120
    with pytest.raises(ConfigError, match="CALL_DEADLINE_S"):
        Config.from_env({"CALL_DEADLINE_S": "0"})


def test_tokens_from_the_environment():
    config = Config.from_env({"INVOKE_TOKEN": " first-invoke-token, second-invoke-token "})
    assert config.invoke_tokens == TOKENS


def test_the_repr_hides_the_key_and_the_tokens():
    assert FAKE_KEY not in repr(Config(dashscope_api_key=FAKE_KEY))
    assert "first-invoke-token" not in repr(Config.from_env({"INVOKE_TOKEN": " first-invoke-token, second-invoke-token "}))


def test_the_default_body_limit_is_one_mebibyte():
    assert Config.from_env({}).max_body_bytes == 1024 * 1024


def test_the_default_model_must_be_allowed():
    with pytest.raises(ConfigError, match="ALLOWED_MODELS"):
        Config.from_env({"ALLOWED_MODELS": "qwen-plus", "QWEN_MODEL": "qwen-max"})


def test_listed_models_from_the_environment():
    configured = Config.from_env({"QWEN_MODEL": "qwen-max", "QWEN_MODELS": "qwen-plus, qwen-max ,qwen-long"})
    assert configured.listed_models == ("qwen-plus", "qwen-max", "qwen-long")
