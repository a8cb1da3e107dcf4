"""Callers on the request path, with the in-process store (CALLERS): who is calling on every door,
limits refused in each door's shape, MODEL_LIMITS for the owner too, and usage settled once per call
with the emulator's own usage, streams (finished and abandoned) and upstream failures included."""

from __future__ import annotations

import dataclasses

import pytest

from core.callers import new_key
from web.services import EXTENSION_KEY

OWNER_TOKEN = "owner-token-callers-app"
PROMPT = "one two three four"


def make_app(config, **settings):
    from app import create_app

    return create_app(dataclasses.replace(config, **settings))


def store_of(app):
    return app.extensions[EXTENSION_KEY].callers


def usage_of(app, name: str) -> dict:
    rows = [row.as_dict() for row in store_of(app).usage(name)]
    return {k: sum(r[k] for r in rows) for k in ("requests", "input_tokens", "output_tokens", "reasoning_tokens")}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def invoke(client, token: str | None, prompt: str = PROMPT, **body):
    return client.post("/invoke", json={"prompt": prompt, **body}, headers=bearer(token) if token else {})


def chat(client, token: str, content: str = PROMPT, **body):
    return client.post("/v1/chat/completions", headers=bearer(token),
                       json={"model": "qwen-flash", "messages": [{"role": "user", "content": content}], **body})


@pytest.fixture
def key() -> str:
    return new_key()


def test_a_caller_key_identifies_its_caller_and_an_unknown_key_is_refused_on_every_door(config, key, logs):
    app = make_app(config, invoke_tokens=(OWNER_TOKEN,), callers=f"app:{key}")
    client = app.test_client()
    logs.clear()
    answer = invoke(client, key)
    assert answer.status_code == 200
    line = logs.requests()[-1]
    assert line["caller"] == "app"
    assert (line["input_tokens"], line["output_tokens"]) == (answer.json["usage"]["input_tokens"],
                                                             answer.json["usage"]["output_tokens"])
    assert key not in logs.text()

    unknown = new_key()
    refused = invoke(client, unknown)
    assert refused.status_code == 401 and refused.json["code"] == "InvalidToken"
    assert "not known or has been revoked" in refused.json["message"]
    openai_refused = chat(client, unknown)
    assert openai_refused.status_code == 401
    assert openai_refused.json["error"]["type"] == "authentication_error"
    assert chat(client, key).status_code == 200
    assert invoke(client, OWNER_TOKEN).status_code == 200
    assert usage_of(app, "app")["requests"] == 2


def test_without_invoke_token_the_function_stays_open_but_caller_keys_are_still_checked(config, key):
    app = make_app(config, callers=f"app:{key}:rpm=1")
    client = app.test_client()
    assert [invoke(client, None).status_code for _ in range(2)] == [200, 200]  # the owner's, unlimited
    assert invoke(client, new_key()).status_code == 401  # a key given must be a valid one
    assert [invoke(client, key).status_code for _ in range(2)] == [200, 429]
    assert usage_of(app, "(owner)")["requests"] == 2 and usage_of(app, "app")["requests"] == 1
    assert client.get("/health").json["caller_store"] == {"kind": "memory", "status": "up"}


def test_rpm_refuses_with_retry_after_in_each_doors_shape_and_the_owner_is_unlimited(config, key):
    client = make_app(config, invoke_tokens=(OWNER_TOKEN,), callers=f"app:{key}:rpm=2").test_client()
    assert [invoke(client, key).status_code for _ in range(2)] == [200, 200]
    refused = invoke(client, key)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json["code"] == "rate_limit_exceeded" and "2 requests per minute" in refused.json["message"]
    openai_refused = chat(client, key)
    assert openai_refused.status_code == 429 and openai_refused.headers["Retry-After"]
    assert openai_refused.json["error"]["code"] == "rate_limit_exceeded"
    assert [invoke(client, OWNER_TOKEN).status_code for _ in range(4)] == [200] * 4


def test_a_spent_budget_is_insufficient_quota_on_v1_after_at_most_one_calls_overrun(config, key):
    app = make_app(config, callers=f"app:{key}:budget_tokens=3")
    client = app.test_client()
    first = chat(client, key)
    assert first.status_code == 200 and first.json["usage"]["total_tokens"] > 3  # admitted while budget remained
    refused = chat(client, key)
    assert refused.status_code == 429 and "Retry-After" not in refused.headers
    assert refused.json["error"]["code"] == "insufficient_quota" and refused.json["error"]["type"] == "insufficient_quota"
    assert "budget of 3 tokens" in refused.json["error"]["message"]
    assert usage_of(app, "app")["requests"] == 1


def test_model_limits_apply_to_the_owner_too_and_its_usage_is_reported(config, key):
    app = make_app(config, invoke_tokens=(OWNER_TOKEN,), callers=f"app:{key}", model_limits="qwen-plus:rpm=2")
    client = app.test_client()
    assert invoke(client, OWNER_TOKEN).status_code == 200
    assert invoke(client, key).status_code == 200
    refused = invoke(client, OWNER_TOKEN)
    assert refused.status_code == 429 and "MODEL_LIMITS" in refused.json["message"]
    assert invoke(client, key, model="qwen-flash").status_code == 200  # another model, not limited
    assert usage_of(app, "(owner)")["requests"] == 1


def test_a_model_outside_the_callers_list_is_403(config, key):
    client = make_app(config, callers=f"app:{key}:models=qwen-plus").test_client()
    refused = chat(client, key)
    assert refused.status_code == 403 and refused.json["error"]["param"] == "model"
    assert chat(client, key, model="qwen-plus").status_code == 200


def test_the_caller_name_header_identifies_a_caller_without_a_key(config, key):
    app = make_app(config, callers=f"app:{key}:rpm=1", caller_name_header="X-Caller-Name")
    client = app.test_client()
    named = {"X-Caller-Name": "app", "Authorization": "Bearer eyJ.a-jwt-fc-verified.sig"}
    assert client.post("/invoke", json={"prompt": PROMPT}, headers=named).status_code == 200
    assert client.post("/invoke", json={"prompt": PROMPT}, headers=named).status_code == 429
    stranger = client.post("/invoke", json={"prompt": PROMPT}, headers={"X-Caller-Name": "someone"})
    assert stranger.status_code == 401 and "X-Caller-Name" in stranger.json["message"]
    assert usage_of(app, "app")["requests"] == 1


def test_usage_equals_the_emulators_for_answers_and_finished_streams(config, key):
    app = make_app(config, callers=f"app:{key}")
    client = app.test_client()
    expected = {"input_tokens": 0, "output_tokens": 0}
    for prompt in ("a b", "c d e f g h"):
        usage = invoke(client, key, prompt).json["usage"]
        for name in expected:
            expected[name] += usage[name]
    streamed = invoke(client, key, "one two three four five", stream=True).get_data(as_text=True)
    last = [line for line in streamed.splitlines() if line.startswith("data:")][-1]
    import json

    usage = json.loads(last[len("data:"):])["usage"]
    for name in expected:
        expected[name] += usage[name]
    got = usage_of(app, "app")
    assert got["requests"] == 3 and {k: got[k] for k in expected} == expected


def test_an_abandoned_stream_is_settled_once_at_its_real_end_with_the_tokens_known(config, key, logs):
    app = make_app(config, callers=f"app:{key}")
    client = app.test_client()
    response = client.post("/invoke", headers=bearer(key), buffered=False,
                           json={"prompt": " ".join(["word"] * 30) + " [[emulate chunk_delay=0.05]]", "stream": True})
    events = response.iter_encoded()
    next(events), next(events)
    assert usage_of(app, "app")["requests"] == 0  # not yet: the stream is still going
    response.close()
    got = usage_of(app, "app")
    (line,) = logs.requests()
    assert line["client_closed"] is True and line["caller"] == "app"
    assert got["requests"] == 1 and 0 < got["output_tokens"] == line["output_tokens"] < 30


def test_an_upstream_failure_is_settled_as_a_request_with_no_tokens(config, key):
    app = make_app(config, callers=f"app:{key}", upstream_retries=0)
    client = app.test_client()
    failed = invoke(client, key, "x [[emulate status=500]]")
    assert failed.status_code >= 500
    stream_failed = invoke(client, key, "x [[emulate status=400 code=InvalidParameter]]", stream=True)
    assert stream_failed.status_code == 400
    assert usage_of(app, "app") == {"requests": 2, "input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0}
