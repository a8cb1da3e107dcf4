"""Models as DashScope serves them today (issue 19): a retired model refused on every door in that door's
shape with no upstream call, MODEL_ALIASES, a model DashScope does not know (404 `model_not_found` on /v1,
DashScope's own 400 elsewhere), and the start-up warnings. In-process, the emulator over a socket."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from app import create_app
from core.callers import new_key
from web.services import EXTENSION_KEY

TEXT_PATH = "/api/v1/services/aigc/text-generation/generation"
MULTIMODAL_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
EMBEDDING_PATH = "/api/v1/services/embeddings/text-embedding/text-embedding"
HELLO = [{"role": "user", "content": "hello"}]


def make(config, **changes):
    return create_app(dataclasses.replace(config, **changes))


# -- a retired model: refused on every door, in its shape, before any upstream call -----------------------
@pytest.mark.parametrize("model, replacement", [
    ("qwen-turbo", "qwen-flash"), ("qwen-vl-max", "qwen3.6-plus"), ("qwen-vl-plus", "qwen3.6-flash"),
    ("qwq-plus", "qwen3.6-plus"), ("qvq-max", "qwen3.6-plus"),
])
def test_a_retired_model_is_refused_on_every_door_naming_its_replacement(client, emulator, model, replacement):
    emulator.clear()
    invoke = client.post("/invoke", json={"model": model, "messages": HELLO})
    assert invoke.status_code == 400
    assert invoke.get_json()["code"] == "InvalidParameter"
    message = invoke.get_json()["message"]
    assert f"`{model}`" in message and "2026-10-10" in message and f"`{replacement}`" in message
    assert f"MODEL_ALIASES={model}={replacement}" in message

    for path in (TEXT_PATH, MULTIMODAL_PATH):
        native = client.post(path, json={"model": model, "input": {"messages": HELLO}})
        assert native.status_code == 400
        body = native.get_json()
        assert set(body) == {"code", "message", "request_id"} and body["code"] == "InvalidParameter"
        assert f"`{replacement}`" in body["message"]

    for stream in (False, True):
        v1 = client.post("/v1/chat/completions", json={"model": model, "messages": HELLO, "stream": stream})
        assert v1.status_code == 404 and v1.mimetype == "application/json"
        error = v1.get_json()["error"]
        assert error["code"] == "model_not_found" and error["param"] == "model"
        assert error["type"] == "invalid_request_error" and f"`{replacement}`" in error["message"]
    assert emulator.history == []


def test_a_retired_speech_model_names_its_replacement_and_one_without_says_so(client, emulator):
    emulator.clear()
    tts = client.post("/invoke", json={"model": "qwen-tts", "messages": HELLO}).get_json()["message"]
    assert "`cosyvoice-v3-flash`" in tts and "notice 792" in tts
    gummy = client.post("/invoke", json={"model": "gummy-realtime-v1", "messages": HELLO}).get_json()["message"]
    assert "no replacement" in gummy
    assert emulator.history == []


def test_a_retired_name_is_refused_for_embeddings_and_the_tokenizer_too(client, emulator):
    emulator.clear()
    v1 = client.post("/v1/embeddings", json={"model": "qwen-turbo", "input": "hello"})
    assert v1.status_code == 404 and v1.get_json()["error"]["code"] == "model_not_found"
    native = client.post(EMBEDDING_PATH, json={"model": "qwen-turbo", "input": {"texts": ["hello"]}})
    assert native.status_code == 400 and native.get_json()["code"] == "InvalidParameter"
    tokenizer = client.post("/api/v1/tokenizer", json={"model": "qwen-turbo", "input": {"prompt": "hello"}})
    assert tokenizer.status_code == 400 and "`qwen-flash`" in tokenizer.get_json()["message"]
    assert emulator.history == []


def test_a_retired_default_model_fails_with_the_same_message(config, emulator):
    client = make(config, default_model="qwen-turbo").test_client()
    emulator.clear()
    response = client.post("/invoke", json={"messages": HELLO})
    assert response.status_code == 400 and "`qwen-flash`" in response.get_json()["message"]
    assert emulator.history == []


# -- MODEL_ALIASES -------------------------------------------------------------------------------------
def test_an_alias_calls_the_model_it_names_and_usage_records_that_name(config, emulator, logs):
    key = new_key()
    app = make(config, model_aliases=(("qwen-turbo", "qwen-flash"), ("qwen-vl-max", "qwen3.6-plus")),
               callers=f"app:{key}")
    client = app.test_client()
    logs.clear()
    emulator.clear()
    response = client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                           json={"model": "qwen-turbo", "messages": HELLO})
    assert response.status_code == 200, response.get_json()
    assert emulator.last_request()["body"]["model"] == "qwen-flash"
    line = logs.requests()[-1]
    assert line["model"] == "qwen-flash" and line["model_asked"] == "qwen-turbo"
    rows = [row.as_dict() for row in app.extensions[EXTENSION_KEY].callers.usage("app")]
    assert [row["model"] for row in rows] == ["qwen-flash"]

    # A vision alias reaches the multimodal endpoint, where the model it names lives.
    vision = client.post("/invoke", headers={"Authorization": f"Bearer {key}"},
                         json={"model": "QWEN-VL-MAX", "messages": HELLO, "enable_thinking": False})
    assert vision.status_code == 200, vision.get_json()
    assert emulator.last_request()["path"] == MULTIMODAL_PATH
    assert emulator.last_request()["body"]["model"] == "qwen3.6-plus"


def test_allowed_models_are_checked_against_the_model_called(config, emulator):
    client = make(config, allowed_models=("qwen-plus", "qwen-flash"),
                  model_aliases=(("qwen-turbo", "qwen-flash"),)).test_client()
    assert client.post("/invoke", json={"model": "qwen-turbo", "messages": HELLO}).status_code == 200
    assert emulator.last_request()["body"]["model"] == "qwen-flash"


# -- a model DashScope does not know -------------------------------------------------------------------
def test_an_unknown_model_is_dashscopes_400_natively_and_openais_404_on_v1(client, emulator):
    emulator.clear()
    invoke = client.post("/invoke", json={"model": "qwen-plsu", "messages": HELLO})
    assert invoke.status_code == 400
    assert (invoke.get_json()["code"], invoke.get_json()["message"]) == ("InvalidParameter", "Model not exist.")
    native = client.post(TEXT_PATH, json={"model": "qwen-plsu", "input": {"messages": HELLO}})
    assert native.status_code == 400
    assert (native.get_json()["code"], native.get_json()["message"]) == ("InvalidParameter", "Model not exist.")
    for stream in (False, True):
        v1 = client.post("/v1/chat/completions", json={"model": "qwen-plsu", "messages": HELLO, "stream": stream})
        assert v1.status_code == 404
        error = v1.get_json()["error"]
        assert (error["code"], error["type"], error["param"]) == ("model_not_found", "invalid_request_error", "model")
        assert error["message"] == "Model not exist."
    assert {seen["body"]["model"] for seen in emulator.history} == {"qwen-plsu"}  # DashScope was asked
    assert len(emulator.history) == 4  # once each: a 400 is never retried


# -- at start ------------------------------------------------------------------------------------------
def test_settings_naming_a_retired_model_are_warned_about_at_start(config, caplog):
    key = new_key()
    with caplog.at_level(logging.WARNING, logger="qwenfc"):
        make(config, default_model="qwen-turbo", allowed_models=("qwen-turbo", "qwen-vl-max", "qwen-plus"),
             callers=f"app:{key}:models=qwq-plus|qwen-plus", model_aliases=(("qwen-vl-max", "qwen3.6-plus"),))
    warnings = [record.getMessage() for record in caplog.records if "retired" in record.getMessage()]
    assert any(w.startswith("QWEN_MODEL names qwen-turbo") and "use qwen-flash" in w for w in warnings)
    assert any(w.startswith("ALLOWED_MODELS names qwen-turbo") for w in warnings)
    assert any(w.startswith("ALLOWED_MODELS names qwen-vl-max") and "list qwen3.6-plus" in w for w in warnings)
    assert any(w.startswith("CALLERS (caller app) names qwq-plus") for w in warnings)
    assert len(warnings) == 4


def test_current_settings_start_without_a_retirement_warning(config, caplog):
    with caplog.at_level(logging.WARNING, logger="qwenfc"):
        make(config, model_aliases=(("qwen-turbo", "qwen-flash"),))
    assert not [record for record in caplog.records if "retired" in record.getMessage()]


def test_scripts_callers_warns_of_a_retired_model_in_a_callers_list():
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), "keygen", "old", "--models", "qwen-plus,qwen-turbo"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stderr.splitlines() == [
        "warning: --models names qwen-turbo, which DashScope retired on 2026-10-10: calls to it fail "
        "(use qwen-flash, or map it with MODEL_ALIASES)"]
    assert "qwen-turbo" in done.stdout and done.stdout.split()[-1].startswith("qfc_")  # still made: the key last
