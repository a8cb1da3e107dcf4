"""DashScope's limits through every door, against the emulator's own wording of each
([[emulate limit=...]], scripts/emulator/limits.py): the status and Retry-After kept, the limit named
in the door's own error shape, and retries only where a retry can succeed within seconds. Pure
classification: tests/unit/test_limits.py; through the openai client and the dashscope SDK:
tests/server/test_openai_client_errors.py and tests/server/test_native_door.py."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

NATIVE = "/api/v1/services/aigc/text-generation/generation"


def unique(directive: str) -> str:
    return f"hello [[emulate {directive}]] {uuid.uuid4().hex}"


def attempts(emulator, text: str) -> int:
    return sum(text in json.dumps(seen["body"], ensure_ascii=False) for seen in emulator.history)


def on_invoke(client, text):
    return client.post("/invoke", json={"model": "qwen-plus", "messages": [{"role": "user", "content": text}]})


def on_native(client, text):
    return client.post(NATIVE, json={"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": text}]}})


def on_v1(client, text):
    return client.post("/v1/chat/completions", json={"model": "qwen-plus", "messages": [{"role": "user", "content": text}]})


# limit directive -> (status, DashScope's code, what the message names, OpenAI's code and type on /v1)
LIMITS = {
    "rpm": (429, "Throttling.RateQuota", "requests-per-minute limit (RPM", ("rate_limit_exceeded", "requests")),
    "tpm": (429, "Throttling.AllocationQuota", "tokens-per-minute limit (TPM", ("rate_limit_exceeded", "tokens")),
}


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("door", [on_invoke, on_native])
def test_a_per_minute_limit_keeps_dashscopes_shape_and_goes_back_at_once(client, emulator, door, limit):
    status, code, names, _ = LIMITS[limit]
    text = unique(f"limit={limit} flaky=1")  # would pass on a second try: the function does not make one
    response = door(client, text)
    body = response.get_json()
    assert response.status_code == status and body["code"] == code
    assert names in body["message"] and response.headers["Retry-After"] == "60"
    assert body["message"].startswith(("Requests rate limit exceeded", "Allocated quota exceeded"))
    assert attempts(emulator, text) == 1


@pytest.mark.parametrize("limit", LIMITS)
def test_a_per_minute_limit_on_v1_is_openais_rate_limit_error_naming_it(client, emulator, limit):
    _, _, names, (code, kind) = LIMITS[limit]
    text = unique(f"limit={limit}")
    response = on_v1(client, text)
    error = response.get_json()["error"]
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"
    assert (error["code"], error["type"]) == (code, kind) and names in error["message"]
    assert attempts(emulator, text) == 1


@pytest.mark.parametrize("limit", LIMITS)
def test_a_per_minute_limit_is_not_retried_even_when_dashscope_says_wait_a_second(client, emulator, limit):
    text = unique(f"limit={limit} retry_after=1 flaky=1")
    response = on_invoke(client, text)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert attempts(emulator, text) == 1


def test_dashscopes_own_retry_after_is_passed_on(client, emulator):
    response = on_v1(client, unique("limit=rpm retry_after=7"))
    assert response.headers["Retry-After"] == "7" and "retry after 7 s" in response.get_json()["error"]["message"]


def test_a_burst_is_retried_here_and_then_passes(client, emulator):
    text = unique("limit=burst flaky=1")
    assert on_v1(client, text).status_code == 200
    assert attempts(emulator, text) == 2


@pytest.mark.parametrize("door", [on_invoke, on_native, on_v1])
def test_a_burst_that_lasts_is_said_to_be_one(client, emulator, door):
    text = unique("limit=burst")
    response = door(client, text)
    assert response.status_code == 429 and "Retry-After" not in response.headers
    body = response.get_json()
    if door is on_v1:
        assert (body["error"]["code"], body["error"]["type"]) == ("rate_limit_exceeded", "burst_rate")
    else:
        assert body["code"] == "Throttling.BurstRate" and "burst protection" in body["message"]
    assert attempts(emulator, text) == 3  # the first try and UPSTREAM_RETRIES=2


# limit directive -> (DashScope's status and code)
QUOTAS = {"free_tier": (403, "AllocationQuota.FreeTierOnly"), "free_quota": (429, "Throttling.AllocationQuota"),
          "arrearage": (400, "Arrearage")}


@pytest.mark.parametrize("limit", QUOTAS)
@pytest.mark.parametrize("door", [on_invoke, on_native])
def test_a_spent_quota_keeps_its_status_is_never_retried_and_names_the_owners_fix(client, emulator, limit, door):
    status, code = QUOTAS[limit]
    text = unique(f"limit={limit}")
    response = door(client, text)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert "waiting will not help" in response.get_json()["message"]
    assert "Retry-After" not in response.headers and response.headers["x-should-retry"] == "false"
    assert attempts(emulator, text) == 1


@pytest.mark.parametrize("limit", QUOTAS)
def test_a_spent_quota_on_v1_is_openais_insufficient_quota(client, emulator, limit):
    text = unique(f"limit={limit}")
    response = on_v1(client, text)
    error = response.get_json()["error"]
    assert response.status_code == QUOTAS[limit][0] and error["code"] == error["type"] == "insufficient_quota"
    assert "the owner must" in error["message"] and attempts(emulator, text) == 1


def test_a_limit_in_a_stream_is_an_error_before_any_event(client, emulator):
    text = unique("limit=rpm")
    response = client.post("/v1/chat/completions", json={"model": "qwen-plus", "stream": True,
                                                         "messages": [{"role": "user", "content": text}]})
    assert response.status_code == 429 and response.get_json()["error"]["type"] == "requests"
    assert response.headers["Retry-After"] == "60" and attempts(emulator, text) == 1


def test_embeddings_name_the_limit_too(client, emulator):
    response = client.post("/v1/embeddings", json={"model": "text-embedding-v4", "input": unique("limit=tpm")})
    assert response.status_code == 429 and response.get_json()["error"]["type"] == "tokens"


@pytest.mark.parametrize("limit, status, code", [("rpm", 429, "limit_requests"), ("tpm", 429, "insufficient_quota"),
                                                 ("burst", 429, "limit_burst_rate"), ("free_tier", 403, "AllocationQuota.FreeTierOnly")])
def test_the_emulators_compatible_mode_words_each_limit_as_dashscopes_does(emulator, limit, status, code):
    # DashScope's compatible mode has its own codes for the same limits (its error-code page: 429-Throttling.RateQuota/limit_requests, ...).
    response = requests.post(f"{emulator.compatible_base_url}/chat/completions", headers={"Authorization": "Bearer sk-x"}, timeout=10,
                             json={"model": "qwen-plus", "messages": [{"role": "user", "content": unique(f"limit={limit}")}]})
    error = response.json()["error"]
    assert response.status_code == status and error["code"] == error["type"] == code


def test_the_log_line_names_the_limit(client, logs):
    on_native(client, unique("limit=burst"))
    (line,) = logs.requests()
    assert (line["status"], line["error_code"], line["limit"]) == (429, "Throttling.BurstRate", "burst")
    assert line["retries"] == 2
