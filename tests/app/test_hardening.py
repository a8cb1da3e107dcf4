"""What an owner configures to leave the function on the internet: inbound tokens, limits, retries,
load shedding, CORS, and logs that keep content out unless asked. In-process (Flask's test client,
the emulator over a socket); reading each setting from the environment is tests/unit/test_config.py,
and that tokens never reach a log or a response is test_observability.py."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid

import pytest

from app import create_app
from core.config import Config
from scripts.fc_process import free_port

TOKENS = ("first-invoke-token", "second-invoke-token")
HELLO = {"messages": [{"role": "user", "content": "hello"}]}


def make(config, **changes):
    return create_app(dataclasses.replace(config, **changes)).test_client()


def unique(text: str) -> str:
    """Request text no other test sends, so the emulator's `flaky` counter starts at zero."""
    return f"{text} {uuid.uuid4().hex}"


# -- INVOKE_TOKEN --------------------------------------------------------------------------------


@pytest.fixture
def guarded(config):
    return make(config, invoke_tokens=TOKENS)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKENS[0]}"}, {"Authorization": "Bearer"}])
def test_calls_need_one_of_the_tokens(guarded, emulator, headers):
    emulator.clear()
    response = guarded.post("/invoke", data="hi", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == "InvalidToken"
    assert emulator.history == []


@pytest.mark.parametrize("token", TOKENS)
def test_every_configured_token_works(guarded, token):
    assert guarded.post("/invoke", data="hi", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_health_and_fc_hooks_stay_open(guarded):
    assert guarded.get("/health").status_code == 200
    assert guarded.post("/initialize").status_code == 200
    assert guarded.get("/pre-stop").status_code == 200


def test_the_openai_door_takes_the_token_as_its_api_key(guarded):
    response = guarded.post("/v1/chat/completions", json=HELLO, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["type"] == "authentication_error"
    ok = guarded.post("/v1/chat/completions", json=HELLO, headers={"Authorization": f"Bearer {TOKENS[1]}"})
    assert ok.status_code == 200


def test_an_open_function_says_so_at_start(config, logs):
    create_app(config)
    assert "INVOKE_TOKEN is not set" in logs.text()
    create_app(dataclasses.replace(config, invoke_tokens=TOKENS))
    assert "INVOKE_TOKEN is not set" not in logs.text()


def test_on_loopback_an_open_function_is_a_note_not_a_warning(config, logs):
    """scripts/run-local.sh listens on 127.0.0.1: only this machine can call, so nothing to warn about."""
    assert Config.from_env({"HOST": "127.0.0.1"}).loopback_only and not Config.from_env({"HOST": "0.0.0.0"}).loopback_only
    create_app(dataclasses.replace(config, loopback_only=True))
    open_lines = [line for line in logs.lines() if "INVOKE_TOKEN is not set" in line["message"]]
    assert [line["level"] for line in open_lines] == ["INFO"]
    assert "to this machine only" in open_lines[0]["message"]
    create_app(dataclasses.replace(config, loopback_only=True, callers="app:sha256:" + "0" * 64))
    callers_lines = [line for line in logs.lines() if "callers are configured" in line["message"]]
    assert [line["level"] for line in callers_lines] == ["INFO"]


# -- MAX_BODY_BYTES ------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(config, emulator):
    client = make(config, max_body_bytes=1000)
    emulator.clear()
    response = client.post("/invoke", data="x" * 1001)
    assert response.status_code == 413
    assert response.get_json()["code"] == "PayloadTooLarge" and "1000" in response.get_json()["message"]
    assert response.headers["Connection"] == "close"
    assert emulator.history == []
    assert client.post("/invoke", data="y" * 1000).status_code == 200
    assert client.post("/v1/chat/completions", data="z" * 2000, content_type="application/json").get_json()["error"]["code"] == "PayloadTooLarge"


# -- ALLOWED_MODELS and MAX_TOKENS_CAP -----------------------------------------------------------


def test_only_allowed_models(config, emulator):
    client = make(config, allowed_models=("qwen-flash", "qwen-plus"))
    emulator.clear()
    response = client.post("/invoke", json={"model": "qwen-max", "prompt": "hi"})
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "qwen-max" in message and "qwen-flash, qwen-plus" in message
    openai_style = client.post("/v1/chat/completions", json={**HELLO, "model": "qwen-max"}).get_json()["error"]
    assert openai_style["param"] == "model"
    assert emulator.history == []
    assert client.post("/invoke", json={"model": "qwen-plus", "prompt": "hi"}).status_code == 200
    assert [m["id"] for m in client.get("/v1/models").get_json()["data"]] == ["qwen-plus", "qwen-flash"]  # the default first


@pytest.mark.parametrize("asked, sent", [(5000, 300), (None, 300), (100, 100)])
def test_max_tokens_is_clamped_to_the_cap(config, emulator, asked, sent):
    client = make(config, max_tokens_cap=300)
    body = {"prompt": "hi"} | ({"max_tokens": asked} if asked else {})
    assert client.post("/invoke", json=body).status_code == 200
    assert emulator.last_request()["body"]["parameters"]["max_tokens"] == sent
    client.post("/v1/chat/completions", json={**HELLO} | ({"max_completion_tokens": asked} if asked else {}))
    assert emulator.last_request()["body"]["parameters"]["max_tokens"] == sent


# -- UPSTREAM_RETRIES ----------------------------------------------------------------------------


def attempts(emulator, text: str) -> list[dict]:
    return [r for r in emulator.history if text in json.dumps(r["body"], ensure_ascii=False)]


def test_flaky_503s_are_retried_until_they_pass(client, emulator, logs):
    text = unique("[[emulate status=503 code=ServiceUnavailable flaky=2]]")
    response = client.post("/invoke", data=text)
    assert response.status_code == 200
    assert len(attempts(emulator, text)) == 3
    (line,) = logs.requests()
    assert line["retries"] == 2 and line["retried_for"] == "ServiceUnavailable"


def test_retries_give_up_after_upstream_retries(config, emulator):
    text = unique("[[emulate status=500 flaky=5]]")
    response = make(config, upstream_retries=2).post("/invoke", data=text)
    assert response.status_code == 500
    assert len(attempts(emulator, text)) == 3


def test_no_retries_when_turned_off(config, emulator):
    text = unique("[[emulate status=429 code=Throttling flaky=1]]")
    assert make(config, upstream_retries=0).post("/invoke", data=text).status_code == 429
    assert len(attempts(emulator, text)) == 1


# (A 401 InvalidApiKey is the function's own key refused: a 503, never retried either; test_key_refused.py.)
@pytest.mark.parametrize("directive", ["status=400 code=InvalidParameter", "status=404 code=ModelNotFound"])
def test_other_4xx_are_never_retried(client, emulator, directive):
    text = unique(f"[[emulate {directive} flaky=1]]")
    assert client.post("/invoke", data=text).status_code == int(directive[7:10])
    assert len(attempts(emulator, text)) == 1


def test_a_timeout_is_not_retried(config, emulator):
    text = unique("[[emulate delay=1]]")
    assert make(config, upstream_timeout_s=0.3).post("/invoke", data=text).status_code == 504
    assert len(attempts(emulator, text)) == 1


def test_retry_after_is_honoured(client, emulator):
    text = unique("[[emulate status=429 code=Throttling retry_after=0.4 flaky=1]]")
    assert client.post("/invoke", data=text).status_code == 200
    first, second = attempts(emulator, text)
    assert second["received_at"] - first["received_at"] >= 0.4


def test_a_long_retry_after_is_passed_on_not_waited_out(client, emulator):
    text = unique("[[emulate status=429 code=Throttling retry_after=60]]")
    response = client.post("/invoke", data=text)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert len(attempts(emulator, text)) == 1


def test_connection_failures_are_retried(config, logs):
    client = make(config, dashscope_base_url=f"http://127.0.0.1:{free_port()}/api/v1")
    logs.clear()
    assert client.post("/invoke", data="hi").status_code == 502
    (line,) = logs.requests()
    assert line["retries"] == 2 and line["retried_for"] == "UpstreamUnreachable"


def test_a_stream_is_retried_before_its_first_event(client, emulator):
    text = unique("a b c [[emulate status=503 flaky=1]]")
    response = client.post("/invoke?stream=true", data=text)
    assert response.status_code == 200 and '"finish_reason":"stop"' in response.get_data(as_text=True)
    assert len(attempts(emulator, text)) == 2


def test_a_stream_is_not_retried_once_it_has_started(client, emulator):
    text = unique("a b c d e f g h [[emulate fail_after=1 status=503]]")
    body = client.post("/invoke?stream=true", data=text).get_data(as_text=True)
    assert "event:error" in body
    assert len(attempts(emulator, text)) == 1


# -- MAX_IN_FLIGHT -------------------------------------------------------------------------------


def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_calls_beyond_max_in_flight_get_an_immediate_429(config, emulator):
    app = create_app(dataclasses.replace(config, max_in_flight=2))
    marker = unique("slow [[emulate delay=1]]")
    results: list[int] = []
    slow = [threading.Thread(target=lambda: results.append(app.test_client().post("/invoke", data=marker).status_code)) for _ in range(2)]
    for thread in slow:
        thread.start()
    wait_for(lambda: len(attempts(emulator, marker)) == 2)

    refused = app.test_client().post("/invoke", data="one more")
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "TooManyInFlight"
    assert refused.headers["Retry-After"] == "1"
    assert results == []  # answered while both slots were still busy

    for thread in slow:
        thread.join()
    assert results == [200, 200]
    assert app.test_client().post("/invoke", data="now there is room").status_code == 200


def test_a_stream_holds_its_slot_until_it_ends(config):
    client = make(config, max_in_flight=1)
    stream = client.post("/invoke?stream=true", data="a b c d e f g h i", buffered=False)
    assert stream.status_code == 200
    assert client.post("/invoke", data="meanwhile").status_code == 429
    stream.get_data()
    stream.close()
    assert client.post("/invoke", data="afterwards").status_code == 200


# -- CORS_ORIGINS --------------------------------------------------------------------------------


def test_cors_for_configured_origins_only(config):
    client = make(config, cors_origins=("https://app.example.com",), invoke_tokens=TOKENS)
    preflight = client.options(
        "/invoke",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()

    call = client.post("/invoke", data="hi", headers={"Origin": "https://app.example.com", "Authorization": f"Bearer {TOKENS[0]}"})
    assert call.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-Request-Id" in call.headers["Access-Control-Expose-Headers"]

    other = client.post("/invoke", data="hi", headers={"Origin": "https://evil.example", "Authorization": f"Bearer {TOKENS[0]}"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_cors_by_default(client):
    response = client.post("/invoke", data="hi", headers={"Origin": "https://app.example.com"})
    assert "Access-Control-Allow-Origin" not in response.headers


# -- LOG_CONTENT ---------------------------------------------------------------------------------


def test_content_is_logged_only_when_asked(config, logs):
    make(config).post("/invoke", data="secret question")
    assert "secret question" not in logs.text()

    client = make(config, log_content=True)
    logs.clear()
    client.post("/invoke", data="logged question")
    client.post("/invoke?stream=true", json={"prompt": "streamed question"}).get_data()
    first, second = logs.requests()
    assert first["request"][-1]["content"] == "logged question" and "logged question" in first["reply"]
    assert second["request"] == "streamed question" and second["reply"].endswith("streamed question")
