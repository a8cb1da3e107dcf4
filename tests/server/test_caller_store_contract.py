"""The caller stores' shared contract, written once and run against each store: the in-process one
(core/callers/memory_store.py) and the Redis one (core/callers/redis_store.py) on a real redis-server.

What only one store does stays in its own file: the memory store's clock-driven windows in
tests/unit/test_callers_memory.py; keys stored hashed, bursts from two processes, Redis lost mid-run
and the CLI in tests/server/test_callers_redis.py.

To extend the contract (a new store operation, a new limit), add a test taking `make_store`; to add a
store, add its name to STORES and a branch to `make_store`."""

from __future__ import annotations

import threading
import time
from typing import Callable

import pytest

from core.callers import CallerKeyRevoked, CallerLimitExceeded, ModelNotAllowedForCaller
from core.callers.memory_store import MemoryCallerStore
from core.callers.pricing import parse_prices
from core.callers.settings import parse_model_limits
from core.callers import build_store
from core.callers.store import CallerStore
from tests.redis_fixture import RedisServer

STORES = ["memory", "redis"]
PLUS = {"input_tokens": 1000, "output_tokens": 500, "output_tokens_details": {"reasoning_tokens": 200}}
MakeStore = Callable[..., CallerStore]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest) -> MakeStore:
    """Makes an empty store of one kind from the settings' text (MODEL_LIMITS, MODEL_PRICES); two
    stores made in one test share their state as two instances of the function would."""
    if request.param == "memory":
        shared: list[MemoryCallerStore] = []

        def memory(model_limits: str = "", model_prices: str = "") -> CallerStore:
            if not shared:  # one process: every "instance" is the same store
                shared.append(MemoryCallerStore(model_limits=parse_model_limits(model_limits),
                                                prices=parse_prices(model_prices) if model_prices else None))
            return shared[0]
        return memory
    server: RedisServer = request.getfixturevalue("redis_server")
    server.client().flushall()
    return lambda model_limits="", model_prices="": build_store(redis_url=server.url, model_limits=model_limits,
                                                                model_prices=model_prices)


def test_a_caller_is_found_by_its_key_and_name_only(make_store: MakeStore) -> None:
    store = make_store()
    caller, key = store.add("app", rpm=5, tpm=900, budget_tokens=10_000, models=("qwen-plus", "qwen-max"))
    assert key.startswith("qfc_") and len(key) > 40
    assert (caller.name, caller.rpm, caller.tpm, caller.budget_tokens, caller.models) == (
        "app", 5, 900, 10_000, ("qwen-plus", "qwen-max"))
    assert store.find(key) == caller and store.find(key + "x") is None
    assert store.find(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.find_by_name("app") == caller and store.find_by_name("nobody") is None
    with pytest.raises(ValueError):  # the name is taken
        store.add("app")
    assert store.healthy()


def test_rpm_is_exact_under_a_threaded_burst(make_store: MakeStore) -> None:
    store = make_store()
    caller, _ = store.add("burst", rpm=10)
    admitted = []

    def fire() -> None:
        for _ in range(5):
            try:
                store.admit(caller, "qwen-plus")
                admitted.append(1)
            except CallerLimitExceeded:
                pass

    threads = [threading.Thread(target=fire) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(admitted) == 10  # 40 attempts, exactly 10 through
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(caller, "qwen-plus")
    assert refused.value.limit == "rpm" and refused.value.status == 429
    assert refused.value.code == "rate_limit_exceeded"
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    assert "10 requests per minute" in refused.value.message


def test_tpm_is_settled_with_real_usage(make_store: MakeStore) -> None:
    store = make_store()
    caller, _ = store.add("tokens", tpm=100)
    store.admit(caller, "qwen-flash")
    store.settle(caller, "qwen-flash", {"input_tokens": 50, "output_tokens": 30})
    store.admit(caller, "qwen-flash")  # 80 < 100: admitted
    store.settle(caller, "qwen-flash", {"prompt_tokens": 20, "completion_tokens": 10})  # OpenAI's names
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(caller, "qwen-flash")
    assert refused.value.limit == "tpm" and 1 <= refused.value.retry_after_s <= 60
    assert "100 tokens per minute" in refused.value.message


def test_budget_is_spent_by_settled_tokens_with_at_most_one_call_over(make_store: MakeStore) -> None:
    store = make_store()
    caller, key = store.add("budgeted", budget_tokens=100)
    store.admit(caller, "qwen-plus")
    store.settle(caller, "qwen-plus", {"input_tokens": 60, "output_tokens": 30})
    store.admit(caller, "qwen-plus")  # 90 spent < 100: still admitted
    store.settle(caller, "qwen-plus", {"input_tokens": 40, "output_tokens": 10})
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(caller, "qwen-plus")
    assert refused.value.code == "insufficient_quota" and refused.value.limit == "budget"
    assert "Retry-After" not in refused.value.headers and "100 tokens" in refused.value.message
    assert [state["spent_tokens"] for c, state in store.callers() if c.name == "budgeted"] == [140]
    assert store.find(key) == caller  # the key still works: only calls are refused


def test_models_allow_list(make_store: MakeStore) -> None:
    store = make_store()
    caller, key = store.add("narrow", models=("qwen-flash", "qwen-plus"))
    assert store.find(key).models == ("qwen-flash", "qwen-plus")
    store.admit(caller, "qwen-plus")
    with pytest.raises(ModelNotAllowedForCaller) as refused:
        store.admit(caller, "qwen-max")
    assert refused.value.status == 403 and refused.value.param == "model"
    assert "qwen-max" in refused.value.message and "qwen-flash, qwen-plus" in refused.value.message


def test_a_revoke_from_another_instance_takes_effect_at_once(make_store: MakeStore) -> None:
    instance_a, instance_b = make_store(), make_store()
    caller, key = instance_a.add("leaky")
    assert instance_a.find(key) == caller
    assert instance_b.find_by_name("leaky") == caller and instance_b.find_by_name("nobody") is None
    assert instance_b.revoke("leaky") is True
    assert instance_a.find_by_name("leaky") is None
    assert instance_a.find(key) is None  # no cache: the very next lookup
    with pytest.raises(CallerKeyRevoked):  # a call looked up just before the revoke
        instance_a.admit(caller, "qwen-plus")
    assert instance_b.revoke("leaky") is False and instance_b.revoke("nobody") is False
    again, new_key = instance_b.add("leaky")  # a revoked name can be given a new key
    assert instance_a.find(key) is None and instance_a.find(new_key) == again


def test_usage_totals_and_estimated_cost(make_store: MakeStore) -> None:
    store = make_store(model_prices="my-model:input=1,output=2")
    a, _ = store.add("a")
    b, _ = store.add("b")
    for _ in range(2):
        store.admit(a, "qwen-plus")
        store.settle(a, "qwen-plus", PLUS)
    store.settle(a, "qwen-plus-0723", {"input_tokens": 1000})  # a dated snapshot: qwen-plus's price
    store.settle(a, "unpriced-model", {"input_tokens": 5})
    store.settle(b, "my-model", {"input_tokens": 1000, "output_tokens": 1000})
    store.settle(b, "qwen-flash", None)  # an upstream error: a request, no tokens
    rows = {(r.caller, r.model): r for r in store.usage()}
    plus = rows[("a", "qwen-plus")]
    assert (plus.requests, plus.input_tokens, plus.output_tokens, plus.reasoning_tokens) == (2, 2000, 1000, 400)
    assert plus.cost == pytest.approx(2 * (1000 * 0.004 + 500 * 0.012) / 1000)
    assert rows[("a", "qwen-plus-0723")].cost == pytest.approx(0.004)
    assert rows[("a", "unpriced-model")].cost is None
    assert rows[("b", "my-model")].cost == pytest.approx(3.0)
    assert rows[("b", "qwen-flash")].requests == 1 and rows[("b", "qwen-flash")].cost == 0
    assert {r.model for r in store.usage("b")} == {"my-model", "qwen-flash"}
    assert store.usage("nobody") == []
    assert plus.day == time.strftime("%Y-%m-%d", time.gmtime())
    assert [c.name for c, _ in store.callers()] == ["a", "b"]


def test_usage_counts_reasoning_tokens_and_prices_them_by_default(make_store: MakeStore) -> None:
    store = make_store()
    a, _ = store.add("a")
    store.settle(a, "qwen-max", {"input_tokens": 1000, "output_tokens": 1000, "output_tokens_details": {"reasoning_tokens": 10}})
    store.settle(a, "qwen-max", None)
    [row] = store.usage("a")
    assert (row.requests, row.input_tokens, row.output_tokens, row.reasoning_tokens) == (2, 1000, 1000, 10)
    assert row.cost == pytest.approx(0.16) and row.as_dict()["cost"] == 0.16


def test_model_limits_are_account_wide(make_store: MakeStore) -> None:
    store = make_store(model_limits="qwen-max:rpm=3;qwen-plus:tpm=100")
    a, _ = store.add("a")
    b, _ = store.add("b", models=("qwen-max", "qwen-plus", "qwen-flash"))
    store.admit(a, "qwen-max")
    store.admit(b, "qwen-max")
    store.admit(a, "qwen-max")
    with pytest.raises(CallerLimitExceeded, match="account-wide") as refused:
        store.admit(b, "qwen-max")
    assert refused.value.limit == "model_rpm" and "MODEL_LIMITS" in refused.value.message
    store.admit(b, "qwen-flash")  # other models are not limited
    store.admit(a, "qwen-plus")
    store.settle(a, "qwen-plus", {"input_tokens": 90, "output_tokens": 30})
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(b, "qwen-plus")
    assert refused.value.limit == "model_tpm" and "Retry-After" in refused.value.headers
    assert store.usage("b") == []  # admitted, never settled: no usage yet
    assert store.limits_model("qwen-max") and not store.limits_model("qwen-flash")
