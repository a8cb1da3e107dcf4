"""The owner's calls in the Redis store: no caller record, yet counted against MODEL_LIMITS in the
same atomic window as the callers' calls, and reported in usage as `(owner)`."""

from __future__ import annotations

import pytest

from core.callers import OWNER, CallerLimitExceeded
from core.callers.redis_store import RedisCallerStore


def test_the_owner_shares_the_models_window_with_callers(redis_server):
    store = RedisCallerStore(redis_server.url, model_limits={"qwen-plus": {"rpm": 3}})
    caller, _ = store.add("app")
    store.admit(OWNER, "qwen-plus")
    store.admit(caller, "qwen-plus")
    store.admit(OWNER, "qwen-plus")
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(OWNER, "qwen-plus")
    assert refused.value.limit == "model_rpm" and "MODEL_LIMITS" in refused.value.message
    with pytest.raises(CallerLimitExceeded):
        store.admit(caller, "qwen-plus")
    store.admit(OWNER, "qwen-flash")  # a model without limits
    assert store.limits_model("qwen-plus") and not store.limits_model("qwen-flash")
    store.settle(OWNER, "qwen-plus", {"input_tokens": 4, "output_tokens": 6})
    (row,) = store.usage("(owner)")
    assert (row.requests, row.input_tokens, row.output_tokens) == (1, 4, 6)
    assert [c.name for c, _ in store.callers()] == ["app"]  # the owner is no caller record
