"""Callers under attack (issue 20): concurrent calls cannot overrun a budget by more than one call
(items 2), a model name that is not one is a 400 before anything is recorded (3), a caller's share
of the instance is bounded and checked before its body is read (5), and the tokenizer is counted
and bounded like a call (10). The in-process store (CALLERS); tests/server has the Redis ones."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.callers import new_key
from web.services import EXTENSION_KEY

OWNER_TOKEN = "owner-token-caller-hardening"
HUGE_MODEL = "qwen-plus" + "x" * 500_000


def make_app(config, **settings):
    from app import create_app

    return create_app(dataclasses.replace(config, **settings))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def usage_of(app, name: str) -> dict:
    rows = app.extensions[EXTENSION_KEY].callers.usage(name)
    return {"requests": sum(r.requests for r in rows), "tokens": sum(r.input_tokens + r.output_tokens for r in rows)}


@pytest.fixture
def key() -> str:
    return new_key()


# -- item 2: reservations -----------------------------------------------------------------------

def test_concurrent_calls_overrun_a_budget_by_at_most_one_call_and_usage_stays_exact(config, key):
    app = make_app(config, callers=f"app:{key}:budget_tokens=300")

    def call(n: int):
        return app.test_client().post("/invoke", headers=bearer(key), json={
            "prompt": f"w w w w w w {n} [[emulate delay=0.3]]", "model": "qwen-plus", "max_tokens": 30})

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(call, range(40)))
    spent = [a.json["usage"]["input_tokens"] + a.json["usage"]["output_tokens"] for a in answers if a.status_code == 200]
    assert spent and sum(spent) <= 300 + max(spent), (len(spent), sum(spent))
    refused = [a for a in answers if a.status_code != 200]
    assert refused and {a.status_code for a in refused} == {429}
    assert usage_of(app, "app") == {"requests": len(spent), "tokens": sum(spent)}


# -- item 3: model names ------------------------------------------------------------------------

DOORS = [
    ("/invoke", lambda model: {"prompt": "hi", "model": model}),
    ("/v1/chat/completions", lambda model: {"model": model, "messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/embeddings", lambda model: {"model": model, "input": "hi"}),
    ("/api/v1/services/aigc/text-generation/generation", lambda model: {"model": model, "input": {"prompt": "hi"}}),
    ("/api/v1/services/embeddings/text-embedding/text-embedding", lambda model: {"model": model, "input": {"texts": ["hi"]}}),
    ("/api/v1/tokenizer", lambda model: {"model": model, "input": {"prompt": "hi"}}),
]


@pytest.mark.parametrize("model", [HUGE_MODEL, "qwen-plus\n", "qwen plus", "qwen-plus;DROP", "-plus", "q" * 129])
@pytest.mark.parametrize(("path", "body"), DOORS, ids=[path for path, _ in DOORS])
def test_a_model_name_that_is_not_one_is_a_400_on_every_door_before_anything_is_recorded(config, key, logs, path, body, model):
    app = make_app(config, invoke_tokens=(OWNER_TOKEN,), callers=f"app:{key}", model_limits="qwen-plus:rpm=100")
    logs.clear()
    for token in (key, OWNER_TOKEN):
        refused = app.test_client().post(path, headers=bearer(token), json=body(model))
        assert refused.status_code == 400
        error = refused.json.get("error", refused.json)
        assert error.get("param") == "model" or "`model`" in error["message"]
        assert "128" in error["message"] and model[:200] not in json.dumps(refused.json)
    assert usage_of(app, "app")["requests"] == 0 and usage_of(app, "(owner)")["requests"] == 0
    lines = logs.requests()
    assert len(lines) == 2 and all(len(json.dumps(line)) < 2000 and "model" not in line for line in lines)


def test_real_model_names_pass(config):
    from core.parameters import check_model_name

    for name in ("qwen-plus", "qwen3.6-plus", "qwen2.5-vl-72b-instruct", "qwen-plus-2025-07-28", "text-embedding-v4",
                 "qwen-plus-ft-202501011200-a1b2", "Moonshot-Kimi-K2-Instruct", "ft:qwen-plus:org:x", "qwen/qwen-max",
                 "q" * 128):
        assert check_model_name(name) == name


# -- item 5: each caller's share of the instance --------------------------------------------------

def hold_calls(app, emulator, key: str, count: int, delay: float = 1.0) -> tuple[list, list[threading.Thread]]:
    """`count` calls of `key` that each take `delay` s at the emulator, running in threads, all
    already at the emulator when this returns."""
    marker = uuid.uuid4().hex
    answers: list = []
    threads = [threading.Thread(target=lambda n=n: answers.append(app.test_client().post(
        "/invoke", headers=bearer(key), json={"prompt": f"{marker} {n} [[emulate delay={delay}]]", "model": "qwen-plus"})))
        for n in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len([r for r in emulator.history if marker in json.dumps(r["body"])]) < count:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return answers, threads


def test_a_caller_holds_at_most_its_share_and_is_refused_before_its_body_is_read(config, emulator, key):
    app = make_app(config, invoke_tokens=(OWNER_TOKEN,), callers=f"app:{key}", max_in_flight=4)  # default share: 2
    answers, threads = hold_calls(app, emulator, key, 2)
    client = app.test_client()
    # A body that is not even JSON: a 429 (not a 400) shows it was refused before the body was read.
    refused = client.post("/invoke", headers={**bearer(key), "Content-Type": "application/json"}, data=b"{not json")
    assert refused.status_code == 429 and refused.json["code"] == "rate_limit_exceeded"
    assert "2 calls in progress" in refused.json["message"] and "CALLER_MAX_IN_FLIGHT" in refused.json["message"]
    assert refused.headers["Retry-After"] == "1"
    openai_refused = client.post("/v1/chat/completions", headers=bearer(key), json={"messages": [{"role": "user", "content": "x"}]})
    assert openai_refused.status_code == 429 and openai_refused.json["error"]["code"] == "rate_limit_exceeded"
    # The owner still has the rest of MAX_IN_FLIGHT.
    assert [client.post("/invoke", headers=bearer(OWNER_TOKEN), json={"prompt": "hi", "model": "qwen-plus"}).status_code
            for _ in range(2)] == [200, 200]
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert usage_of(app, "app")["requests"] == 2  # refused calls were never counted


def test_a_callers_own_max_in_flight_wins_and_its_share_comes_back_however_calls_end(config, key):
    app = make_app(config, callers=f"app:{key}:max_in_flight=1", caller_max_in_flight=10)
    client = app.test_client()
    failing = {"prompt": "x [[emulate status=500]]", "model": "qwen-plus"}
    assert client.post("/invoke", headers=bearer(key), json=failing).status_code >= 500
    assert client.post("/invoke", headers=bearer(key), json={"prompt": "x", "model": "bad model"}).status_code == 400
    streamed = client.post("/invoke", headers=bearer(key), buffered=False,
                           json={"prompt": " ".join(["w"] * 20) + " [[emulate chunk_delay=0.05]]", "stream": True,
                                 "model": "qwen-plus"})
    events = streamed.iter_encoded()
    next(events)
    during = client.post("/invoke", headers=bearer(key), json={"prompt": "hi", "model": "qwen-plus"})
    assert during.status_code == 429 and "1 calls in progress" in during.json["message"]
    streamed.close()  # abandoned: its share comes back at its real end
    assert client.post("/invoke", headers=bearer(key), json={"prompt": "hi", "model": "qwen-plus"}).status_code == 200


def test_a_caller_at_its_rpm_is_refused_before_its_body_is_read_and_rpm_stays_exact(config, key):
    app = make_app(config, callers=f"app:{key}:rpm=2")
    client = app.test_client()
    assert client.post("/invoke", headers=bearer(key), json={"prompt": "hi", "model": "qwen-plus"}).status_code == 200
    # Refused bodies (bad JSON) do not count: rpm counts admitted calls only.
    assert client.post("/invoke", headers={**bearer(key), "Content-Type": "application/json"}, data=b"{bad").status_code == 400
    assert client.post("/invoke", headers=bearer(key), json={"prompt": "hi", "model": "qwen-plus"}).status_code == 200
    refused = client.post("/invoke", headers={**bearer(key), "Content-Type": "application/json"}, data=b"{bad")
    assert refused.status_code == 429 and "2 requests per minute" in refused.json["message"]
    assert usage_of(app, "app")["requests"] == 2


# -- item 10: the tokenizer ---------------------------------------------------------------------

def tokenize(client, key: str | None, prompt: str = "hello there"):
    return client.post("/api/v1/tokenizer", headers=bearer(key) if key else {},
                       json={"model": "qwen-plus", "input": {"prompt": prompt}})


def test_the_tokenizer_counts_against_a_callers_rpm_and_leaves_no_usage_row(config, key):
    app = make_app(config, invoke_tokens=(OWNER_TOKEN,), callers=f"app:{key}:rpm=2", model_limits="qwen-plus:rpm=1")
    client = app.test_client()
    assert [tokenize(client, key).status_code for _ in range(2)] == [200, 200]
    refused = tokenize(client, key)
    assert refused.status_code == 429 and "2 requests per minute" in refused.json["message"]
    assert refused.headers["Retry-After"]
    assert usage_of(app, "app")["requests"] == 0  # nothing was spent at DashScope
    # The tokenizer spends no account quota: MODEL_LIMITS neither counts nor stops it, nor the owner.
    assert [tokenize(client, OWNER_TOKEN).status_code for _ in range(3)] == [200] * 3
    assert client.post("/invoke", headers=bearer(OWNER_TOKEN), json={"prompt": "hi", "model": "qwen-plus"}).status_code == 200


def test_the_tokenizers_input_is_bounded_by_max_input_tokens_and_max_body_bytes(config):
    client = make_app(config, max_input_tokens=(("*", 10),), max_body_bytes=4096).test_client()
    assert tokenize(client, None, "one two three").status_code == 200
    too_long = tokenize(client, None, " ".join(["word"] * 50))
    assert too_long.status_code == 400 and "MAX_INPUT_TOKENS" in too_long.json["message"]
    too_big = tokenize(client, None, "x" * 5000)
    assert too_big.status_code == 413 and "MAX_BODY_BYTES" in too_big.json["message"]
