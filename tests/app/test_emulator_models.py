"""Which models the emulator says exist, as today's DashScope: current names answer, retired and unknown
ones get DashScope's 400 `Model not exist.` (compatible mode: 404 `model_not_found`), and
`extra_models` adds names (scripts/emulator/models.py, listed in docs/models.md)."""

from __future__ import annotations

import http.client
import json

import dashscope
import pytest

from scripts.dashscope_emulator import Emulator
from tests.app.conftest import EMULATOR_KEY as KEY
from tests.app.test_emulator import user

CURRENT_TEXT = ["qwen-plus", "qwen-flash", "qwen-max", "qwen-long", "qwen3-max", "qwen-plus-2025-07-28",
                "qwen-plus-latest", "deepseek-v3.2", "qwen3-coder-plus", "qwen-mt-plus"]
CURRENT_MULTIMODAL = ["qwen3.6-plus", "qwen3.6-flash", "qwen3.5-plus", "qwen3.7-max", "qwen3.8-flash", "qwen3-vl-plus",
                      "kimi-k2.5"]
GONE = ["qwen-turbo", "qwen-vl-max", "qwen-vl-plus", "qwq-plus", "qvq-max", "qwen-turbo-latest",
        "qwen-vl-max-2025-04-08", "qwen-plsu", "qwen", "qwenplus", "gpt-4o"]


@pytest.mark.parametrize("model", CURRENT_TEXT)
def test_current_text_models_answer(sdk, model):
    response = dashscope.Generation.call(model=model, messages=user("hi"), result_format="message")
    assert response.status_code == 200, response.message


@pytest.mark.parametrize("model", CURRENT_MULTIMODAL)
def test_current_multimodal_models_answer(sdk, model):
    response = dashscope.MultiModalConversation.call(model=model, messages=user({"text": "hi"}), enable_thinking=False)
    assert response.status_code == 200, response.message


@pytest.mark.parametrize("model", GONE)
def test_retired_and_unknown_models_do_not_exist(sdk, strict, model):
    for call in (dashscope.Generation.call, dashscope.MultiModalConversation.call):
        response = call(model=model, messages=user({"text": "hi"}) if call is dashscope.MultiModalConversation.call else user("hi"))
        assert (response.status_code, response.code, response.message) == (400, "InvalidParameter", "Model not exist.")
    connection = http.client.HTTPConnection("127.0.0.1", strict.port, timeout=10)
    connection.request("POST", "/compatible-mode/v1/chat/completions", json.dumps({"model": model, "messages": user("hi")}),
                       {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    answer = connection.getresponse()
    assert answer.status == 404 and json.loads(answer.read())["error"]["code"] == "model_not_found"


def test_embedding_models_that_exist_and_one_that_does_not(sdk):
    assert dashscope.TextEmbedding.call(model="text-embedding-v4", input="hi").status_code == 200
    refused = dashscope.TextEmbedding.call(model="text-embedding-v9", input="hi")
    assert (refused.status_code, refused.message) == (400, "Model not exist.")


def test_extra_models_exist_when_the_emulator_is_told_so(monkeypatch):
    told = Emulator(extra_models=("qwen-omega-*",)).start()
    try:
        monkeypatch.setattr(dashscope, "base_http_api_url", told.base_url)
        assert dashscope.Generation.call(model="qwen-omega-plus", messages=user("hi"), api_key=KEY).status_code == 200
        assert dashscope.Generation.call(model="qwen-delta-plus", messages=user("hi"), api_key=KEY).status_code == 400
    finally:
        told.stop()
