"""Reservations against a real redis-server (issue 20, item 2): concurrent calls cannot overrun a
budget or a tpm limit by more than one call, across two instances (gunicorn, as s.yaml starts it)
sharing one Redis; usage stays the emulator's own; a reservation is released when its call settles
(failures and abandoned streams included) and lapses when its instance died mid-call."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest
import requests

from core.callers import CallerLimitExceeded
from core.callers.redis_store import RedisCallerStore
from scripts.fc_process import start_like_fc, stop
from tests.conftest import ROOT, function_env
from tests.redis_fixture import RedisServer

OWNER = "owner-token-reservations"
CALLS = 100


@pytest.fixture(scope="module")
def instances(emulator, redis_server: RedisServer) -> Iterator[list[str]]:
    env = function_env(emulator, REDIS_URL=redis_server.url, INVOKE_TOKEN=OWNER, UPSTREAM_RETRIES="0",
                       CALLER_MAX_IN_FLIGHT="100")
    started = [start_like_fc(env) for _ in range(2)]
    yield [url for _, url in started]
    for process, _ in started:
        stop(process)


def add(redis_server: RedisServer, name: str, *options: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), "add", name, *options],
                          capture_output=True, text=True, env={"REDIS_URL": redis_server.url, "PATH": "/usr/bin:/bin"},
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def usage(redis_server: RedisServer, name: str) -> dict:
    rows = RedisCallerStore(redis_server.url, timeout_s=5).usage(name)
    return {"requests": sum(r.requests for r in rows), "tokens": sum(r.input_tokens + r.output_tokens for r in rows)}


def burst(instances: list[str], key: str, **body) -> list[requests.Response]:
    """CALLS concurrent calls, alternating between the two instances; each answer takes ~0.5 s."""
    def call(n: int) -> requests.Response:
        return requests.post(f"{instances[n % 2]}/invoke", headers={"Authorization": f"Bearer {key}"}, timeout=60,
                             json={"prompt": f"w w w w w w w w {n} [[emulate delay=0.5]]", "model": "qwen-plus", **body})
    with ThreadPoolExecutor(CALLS) as pool:
        return list(pool.map(call, range(CALLS)))


@pytest.mark.parametrize("limit", ["--budget-tokens", "--tpm"])
def test_a_hundred_concurrent_calls_on_two_instances_overrun_a_token_limit_by_at_most_one_call(
        instances, redis_server, limit):
    key = add(redis_server, f"concurrent{limit.replace('-', '_')}", limit, "1000")
    answers = burst(instances, key)
    served = [a for a in answers if a.status_code == 200]
    spent = [a.json()["usage"]["input_tokens"] + a.json()["usage"]["output_tokens"] for a in served]
    assert served and sum(spent) <= 1000 + max(spent), (len(served), sum(spent))  # e727c51: 100 served, 22,400 spent
    refused = [a for a in answers if a.status_code != 200]
    assert refused and {a.status_code for a in refused} == {429}
    assert all(int(a.headers["Retry-After"]) >= 1 for a in refused if "Retry-After" in a.headers)
    # Reservations are not usage: the report is what the emulator said, call by call.
    assert usage(redis_server, f"concurrent{limit.replace('-', '_')}") == {"requests": len(served), "tokens": sum(spent)}


def spent_in(answers: list[requests.Response]) -> list[int]:
    return [a.json()["usage"]["input_tokens"] + a.json()["usage"]["output_tokens"] for a in answers if a.status_code == 200]


def test_a_thinking_call_with_no_thinking_budget_cannot_overrun_a_budget_by_more_than_one_call(instances, redis_server):
    """DashScope's max_tokens bounds the answer, not the thinking: a reserved call that names no
    thinking_budget is held to the thinking it reserved (core/reservation.py)."""
    key = add(redis_server, "thinking", "--budget-tokens", "20000")
    words = " ".join(["w"] * 400)

    def call(n: int) -> requests.Response:
        return requests.post(f"{instances[n % 2]}/invoke", headers={"Authorization": f"Bearer {key}"}, timeout=60,
                             json={"prompt": f"{words} {n} [[emulate delay=0.5]]", "model": "qwen3.6-plus", "max_tokens": 5})
    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(call, range(40)))
    spent = spent_in(answers)
    # 4900023: all 40 admitted (each reserved its input + 5), 33,120 tokens spent.
    assert spent and sum(spent) <= 20000 + max(spent), (len(spent), sum(spent))
    assert {a.status_code for a in answers} <= {200, 429}


def test_a_call_with_no_max_tokens_is_held_to_what_it_reserved(instances, redis_server):
    key = add(redis_server, "unbounded", "--budget-tokens", "60000")
    reply = " ".join(["r"] * 6000)

    def call(n: int) -> requests.Response:
        return requests.post(f"{instances[n % 2]}/invoke", headers={"Authorization": f"Bearer {key}"}, timeout=60,
                             json={"prompt": f"{n} [[emulate delay=0.5 reply=\"{reply}\"]]", "model": "qwen-plus"})
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(call, range(20)))
    spent = spent_in(answers)
    # 4900023: 6 admitted (each reserved its input + 4,096), 72,078 tokens spent.
    assert spent and sum(spent) <= 60000 + max(spent), (len(spent), sum(spent))
    served = [a.json() for a in answers if a.status_code == 200]
    assert all(a["usage"]["output_tokens"] == 4096 and a["output"]["finish_reason"] == "length" for a in served), served[0]["usage"]


def test_a_reservation_is_released_when_its_call_ends_however_it_ends(instances, redis_server):
    key = add(redis_server, "released", "--budget-tokens", "5000")
    bearer = {"Authorization": f"Bearer {key}"}
    failed = requests.post(f"{instances[0]}/invoke", headers=bearer, timeout=30,
                           json={"prompt": "x [[emulate status=500]]", "max_tokens": 4000})
    assert failed.status_code >= 500
    streamed = requests.post(f"{instances[1]}/invoke", headers=bearer, timeout=30,
                             json={"prompt": "a b c", "stream": True, "max_tokens": 4000})
    assert streamed.status_code == 200 and streamed.text.count("data:") >= 2
    # Both reserved 4,000 tokens and more of a 5,000 budget: had either kept its reservation, this
    # call (which reserves as much) would be refused.
    assert requests.post(f"{instances[0]}/invoke", headers=bearer, timeout=30,
                         json={"prompt": "a b c", "max_tokens": 4000}).status_code == 200
    assert not redis_server.client().zrange("{qfc}:reserved:released", 0, -1)


def test_an_unsettled_reservation_lapses_after_its_ttl(redis_server):
    """An instance that dies mid-call never settles: its reservation must not hold the budget forever."""
    dying = RedisCallerStore(redis_server.url, reservation_ttl_s=2)
    caller, _ = dying.add("orphaned", budget_tokens=1000)
    assert dying.admit(caller, "qwen-plus", 5000) is not None  # ...and the instance dies here
    with pytest.raises(CallerLimitExceeded) as refused:
        dying.admit(caller, "qwen-plus", 10)
    assert refused.value.limit == "budget_reserved" and refused.value.code == "rate_limit_exceeded"
    assert refused.value.headers["Retry-After"] == "1" and "in progress" in refused.value.message
    assert 0 < redis_server.client().ttl("{qfc}:reserved:orphaned") <= 2
    time.sleep(3.1)
    survivor = RedisCallerStore(redis_server.url)
    reservation = survivor.admit(caller, "qwen-plus", 10)
    survivor.settle(caller, "qwen-plus", {"input_tokens": 4, "output_tokens": 3}, reservation)
    assert [s["spent_tokens"] for c, s in survivor.callers() if c.name == "orphaned"] == [7]
    assert usage(redis_server, "orphaned") == {"requests": 1, "tokens": 7}


def test_model_limits_tpm_reserves_for_the_owner_too(emulator, redis_server):
    env = function_env(emulator, REDIS_URL=redis_server.url, INVOKE_TOKEN=OWNER, MODEL_LIMITS="qwen-max:tpm=500")
    process, url = start_like_fc(env)
    try:
        def call(n: int) -> requests.Response:
            return requests.post(f"{url}/invoke", headers={"Authorization": f"Bearer {OWNER}"}, timeout=60,
                                 json={"prompt": f"w w w {n} [[emulate delay=0.5]]", "model": "qwen-max"})
        with ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(call, range(30)))
    finally:
        stop(process)
    spent = [a.json()["usage"]["total_tokens"] for a in answers if a.status_code == 200]
    assert spent and sum(spent) <= 500 + max(spent)
    assert {a.status_code for a in answers} == {200, 429}
    assert "MODEL_LIMITS" in json.dumps([a.json() for a in answers if a.status_code == 429][0])
