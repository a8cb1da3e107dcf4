"""The openai client's errors through /v1, as a caller sees them: each DashScope failure raises the
matching openai exception, DashScope's limits told apart (and retried by the client only), a stream
that fails says so, a refused function key is the owner's fault, and a retired or unknown model is the
client's NotFoundError."""

from __future__ import annotations

import json

import openai
import pytest
import requests
from openai import OpenAI

from tests.app.test_key_refused import assert_owner_fault
from tests.server.test_openai_client import CALLER_KEY, HELLO, collect, oai  # noqa: F401 (oai: a fixture)

pytestmark = pytest.mark.server

@pytest.mark.parametrize(
    "directive, error_class, status",
    [
        ("status=403 code=AccessDenied", openai.PermissionDeniedError, 403),
        ("status=404 code=ModelNotFound", openai.NotFoundError, 404),
        ("status=429 code=Throttling", openai.RateLimitError, 429),
        ("status=500 code=InternalError", openai.InternalServerError, 500),
        ("status=503 code=ModelUnavailable", openai.InternalServerError, 503),
    ],
)
def test_upstream_errors_raise_the_matching_openai_error(oai, directive, error_class, status):
    with pytest.raises(error_class) as raised:
        oai.chat.completions.create(model="qwen-flash", messages=[{"role": "user", "content": f"hi [[emulate {directive}]]"}])
    assert raised.value.status_code == status
    # DashScope's code, except a throttle's (OpenAI's own code for it: the limits' tests below) and a model
    # DashScope does not know (OpenAI's `model_not_found` on /v1).
    own = {429: "rate_limit_exceeded", 404: "model_not_found"}
    assert raised.value.body["code"] == own.get(status, directive.split("code=")[1])


def test_rate_limit_error_type(oai):
    with pytest.raises(openai.RateLimitError) as raised:
        oai.chat.completions.create(model="qwen-flash", messages=[{"role": "user", "content": "x [[emulate status=429 code=Throttling]]"}])
    assert raised.value.body["type"] == "rate_limit_exceeded"


# One emulated per-minute 429 took 7.2 s and 9 upstream calls through the client's defaults: its 2
# retries each stacked on the function's 2. Now the function answers at once with Retry-After, and the
# client's retries are the only ones (the directive's short Retry-After keeps the test quick).
def test_a_per_minute_limit_is_retried_by_the_client_only(server, emulator):
    emulator.clear()
    client = OpenAI(base_url=f"{server}/v1", api_key=CALLER_KEY, timeout=30)  # max_retries: its default, 2
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "x [[emulate limit=rpm retry_after=0.2]]"}])
    assert len(emulator.history) == 3
    assert raised.value.body["type"] == "requests" and raised.value.body["code"] == "rate_limit_exceeded"
    assert "requests-per-minute limit (RPM" in raised.value.message


def test_a_per_minute_limit_without_dashscopes_retry_after_says_when(oai, emulator):
    emulator.clear()
    with pytest.raises(openai.RateLimitError) as raised:
        oai.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "x [[emulate limit=tpm]]"}])
    assert raised.value.response.headers["retry-after"] == "60" and raised.value.body["type"] == "tokens"
    assert len(emulator.history) == 1


def test_a_spent_quota_stops_the_clients_retries(server, emulator):
    emulator.clear()
    client = OpenAI(base_url=f"{server}/v1", api_key=CALLER_KEY, timeout=30)  # max_retries: its default, 2
    with pytest.raises(openai.RateLimitError) as raised:  # DashScope's 429 "Free allocated quota exceeded."
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "x [[emulate limit=free_quota]]"}])
    assert raised.value.code == "insufficient_quota" and len(emulator.history) == 1
    with pytest.raises(openai.PermissionDeniedError) as raised:
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "x [[emulate limit=free_tier]]"}])
    assert raised.value.code == "insufficient_quota" and "use free tier only" in raised.value.message


def test_a_stream_that_fails_after_the_first_byte_says_so(server, oai):
    body = {"model": "qwen-flash", "stream": True, "messages": [{"role": "user", "content": "a b c d e f g h [[emulate fail_after=1 code=DataInspectionFailed]]"}]}
    raw = requests.post(f"{server}/v1/chat/completions", json=body, timeout=30).text
    lines = [line for line in raw.split("\n\n") if line]
    assert lines[0].startswith("data: {") and '"role":"assistant"' in lines[0]
    last = json.loads(lines[-1].removeprefix("data: "))
    assert last["error"]["code"] == "DataInspectionFailed" and last["error"]["message"]
    assert "[DONE]" not in raw

    with pytest.raises(openai.APIError):
        collect(oai.chat.completions.create(**{k: v for k, v in body.items() if k != "stream"}, stream=True))


def test_a_stream_cut_upstream_is_not_a_clean_end(server):
    body = {"model": "qwen-flash", "stream": True, "messages": [{"role": "user", "content": "a b c d e f g h i [[emulate cut_after=2]]"}]}
    raw = requests.post(f"{server}/v1/chat/completions", json=body, timeout=30).text
    assert '"code":"UpstreamStreamIncomplete"' in raw and "[DONE]" not in raw


def test_errors_under_v1_are_openai_shaped(server):
    for response in (
        requests.get(f"{server}/v1/chat/completions", timeout=10),
        requests.post(f"{server}/v1/completions", json={}, timeout=10),
        requests.post(f"{server}/v1/chat/completions", data="not json", timeout=10),
    ):
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert response.status_code in (400, 404, 405)


def test_a_refused_function_key_is_a_server_error_not_an_authentication_error(oai):
    with pytest.raises(openai.InternalServerError) as raised:
        oai.chat.completions.create(model="qwen-flash", messages=[{"role": "user", "content": "hi [[emulate status=401 code=InvalidApiKey]]"}])
    assert raised.value.status_code == 503
    assert raised.value.body["type"] == "server_error"
    assert_owner_fault(raised.value.body)


def test_a_refused_function_key_in_a_stream_is_the_same_server_error(oai):
    with pytest.raises(openai.InternalServerError) as raised:
        stream = oai.chat.completions.create(
            model="qwen-flash", stream=True, messages=[{"role": "user", "content": "hi [[emulate status=401 code=InvalidApiKey]]"}]
        )
        list(stream)
    assert raised.value.status_code == 503
    assert_owner_fault(raised.value.body)


# -- models DashScope does not serve (issue 19) ----------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_a_retired_model_is_the_clients_not_found_error_naming_the_replacement(oai, emulator, stream):
    emulator.clear()
    with pytest.raises(openai.NotFoundError, match="use `qwen-flash` instead") as raised:
        oai.chat.completions.create(model="qwen-turbo", messages=HELLO, stream=stream)
    assert raised.value.code == "model_not_found" and raised.value.param == "model"
    assert emulator.history == []  # refused before any call


@pytest.mark.parametrize("stream", [False, True])
def test_a_model_dashscope_does_not_know_is_the_clients_not_found_error(oai, emulator, stream):
    emulator.clear()
    with pytest.raises(openai.NotFoundError, match="Model not exist.") as raised:
        oai.chat.completions.create(model="qwen-plsu", messages=HELLO, stream=stream)
    assert raised.value.status_code == 404 and raised.value.code == "model_not_found"
    assert [seen["body"]["model"] for seen in emulator.history] == ["qwen-plsu"]  # asked once, never retried
