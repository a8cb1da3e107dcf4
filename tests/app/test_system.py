"""/health and FC's lifecycle hooks."""

from __future__ import annotations

import dataclasses

import pytest

from app import create_app
from core.config import Config, ConfigError
from tests.conftest import FAKE_KEY


def test_health_says_a_key_is_configured_without_showing_it(client, emulator):
    emulator.clear()
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["api_key_configured"] is True
    assert body["default_model"] == "qwen-turbo"
    assert body["invoke_mode"] == "messages"
    assert FAKE_KEY not in response.get_data(as_text=True)
    assert emulator.history == []  # no upstream call


def test_health_without_a_key(config):
    body = create_app(dataclasses.replace(config, dashscope_api_key=None)).test_client().get("/health").get_json()
    assert body["api_key_configured"] is False


def test_initialize_and_pre_stop(client):
    assert client.post("/initialize", data=b"").status_code == 200
    assert client.get("/pre-stop").status_code == 200


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
    assert config.default_model == "qwen-turbo"
    assert config.system_prompt == "You are a helpful assistant."
    assert config.invoke_mode == "messages"


@pytest.mark.parametrize("name, value", [("INVOKE_MODE", "chat"), ("UPSTREAM_TIMEOUT_S", "soon"), ("UPSTREAM_TIMEOUT_S", "0")])
def test_bad_configuration_is_refused_at_start(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_lifecycle_hooks_act_only_when_fc_calls_them(app, client):
    from web.services import services

    with app.app_context():
        upstream = services().upstream
    ignored = client.post("/initialize")
    assert ignored.status_code == 200 and ignored.get_json()["status"] == "ignored"
    assert upstream._session is None  # nothing was done
    assert client.get("/pre-stop").get_json()["status"] == "ignored"

    assert client.post("/initialize", headers={"x-fc-control-path": "/initialize"}).get_json()["status"] == "initialized"
    assert upstream._session is not None
    assert client.get("/pre-stop", headers={"x-fc-control-path": "/pre-stop"}).get_json()["status"] == "stopping"
    # FC's mark for one hook does not open the other.
    assert client.get("/pre-stop", headers={"x-fc-control-path": "/initialize"}).get_json()["status"] == "ignored"


def test_call_deadline_setting():
    assert Config.from_env({}).call_deadline_s == 590
    assert Config.from_env({"CALL_DEADLINE_S": "120"}).call_deadline_s == 120
    with pytest.raises(ConfigError, match="CALL_DEADLINE_S"):
        Config.from_env({"CALL_DEADLINE_S": "0"})
