"""Callers without Redis: the in-process store (one instance), the settings, keys and tokens."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.callers import CallerLimitExceeded, Tokens, key_hash, new_key
from core.callers.memory_store import MemoryCallerStore
from core.callers.settings import parse_callers, parse_model_limits
from core.callers import build_store
from core.config import Config, ConfigError
from tests.conftest import ROOT

KEY = "qfc_" + "k" * 43


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_callers_setting_takes_a_key_or_its_hash_and_limits() -> None:
    other = new_key()
    callers = parse_callers(f"a:{KEY}:rpm=5,tpm=900,budget_tokens=10000,models=qwen-plus|qwen-max; b:sha256:{key_hash(other)}")
    a, b = callers[key_hash(KEY)], callers[key_hash(other)]
    assert (a.name, a.rpm, a.tpm, a.budget_tokens, a.models) == ("a", 5, 900, 10000, ("qwen-plus", "qwen-max"))
    assert (b.name, b.rpm, b.models) == ("b", None, None)
    store = MemoryCallerStore(callers)
    assert store.find(KEY) == a and store.find(other) == b and store.find(KEY + "x") is None


@pytest.mark.parametrize("raw, complaint", [
    (f"a:{KEY};a:qfc_{'z' * 43}", "given twice"),
    ("a:qfc_short", "caller key"),
    (f"a:{KEY}:rpm=0", "rpm"),
    (f"a:{KEY}:burst=3", "not one of"),
    (f"bad name:{KEY}", "caller name"),
    (f"a:{KEY};b:{KEY}", "same key"),
])
def test_a_bad_callers_setting_stops_start_up_without_echoing_the_key(raw: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config.from_env({"CALLERS": raw})
    assert complaint in str(error.value) and KEY not in str(error.value)


def test_other_caller_settings_are_checked_at_start_up() -> None:
    assert parse_model_limits("qwen-plus:rpm=600,tpm=1000000;qwen-max:rpm=60") == {
        "qwen-plus": {"rpm": 600, "tpm": 1000000}, "qwen-max": {"rpm": 60}}
    for env, complaint in [({"MODEL_LIMITS": "qwen-plus"}, "rpm=N"), ({"MODEL_LIMITS": "qwen-plus:rpm=x"}, "whole number"),
                           ({"MODEL_PRICES": "qwen-plus:input=cheap"}, "input"),
                           ({"REDIS_URL": "redis://127.0.0.1:1/0", "CALLERS": f"a:{KEY}"}, "CALLERS is for runs without Redis")]:
        with pytest.raises(ConfigError, match=complaint):
            Config.from_env(env)
    config = Config.from_env({"REDIS_URL": "redis://:secret@tair.example:6379/0", "CALLERS_FAIL_OPEN": "1"})
    assert config.callers_fail_open and "secret" not in repr(config)


def test_build_store_chooses_by_settings() -> None:
    assert build_store(redis_url=None) is None  # the owner's token only, as before
    assert build_store(redis_url=None, callers=f"a:{KEY}").kind == "memory"
    assert build_store(redis_url="redis://127.0.0.1:1/0").kind == "redis"  # connects lazily
    with pytest.raises(ValueError):
        build_store(redis_url="redis://127.0.0.1:1/0", callers=f"a:{KEY}")


def test_the_rpm_window_slides_with_the_clock() -> None:
    """Exactness under a threaded burst is the contract's (tests/server/test_caller_store_contract.py);
    here, the window itself: a minute's calls leave it a minute later, to the second."""
    clock = Clock()
    store = MemoryCallerStore(parse_callers(f"a:{KEY}:rpm=10"), clock=clock)
    caller = store.find(KEY)
    for _ in range(10):
        store.admit(caller, "qwen-plus")
    clock.now += 30
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(caller, "qwen-plus")
    assert refused.value.limit == "rpm" and refused.value.headers["Retry-After"] == "30"
    clock.now += 30  # the burst's second has left the window
    store.admit(caller, "qwen-plus")


def test_tpm_window_slides_with_the_clock() -> None:
    """The contract (tests/server/test_caller_store_contract.py) covers budget, models, revoke and
    usage for both stores; the clock it cannot move there is checked here."""
    clock = Clock()
    store = MemoryCallerStore(parse_callers(f"a:{KEY}:tpm=100"), clock=clock)
    caller = store.find(KEY)
    store.admit(caller, "qwen-flash")
    store.settle(caller, "qwen-flash", {"input_tokens": 70, "output_tokens": 40})
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(caller, "qwen-flash")
    assert refused.value.limit == "tpm" and refused.value.retry_after_s == 60
    clock.now += 60
    store.admit(caller, "qwen-flash")


def test_tokens_from_either_usage_shape() -> None:
    assert Tokens.from_usage({"input_tokens": 3, "output_tokens": 4, "output_tokens_details": {"reasoning_tokens": 2}}) == Tokens(3, 4, 2)
    assert Tokens.from_usage({"prompt_tokens": 3, "completion_tokens": 4, "completion_tokens_details": {"reasoning_tokens": 1}}) == Tokens(3, 4, 1)
    assert Tokens.from_usage(None).total == 0 and Tokens.from_usage({"input_tokens": -1}).total == 0
    # An embedding's usage is only a total, all of it input (it used to count as no tokens at all).
    assert Tokens.from_usage({"total_tokens": 3}) == Tokens(3, 0, 0)
    assert Tokens.from_usage({"input_tokens": 0, "output_tokens": 2, "total_tokens": 2}) == Tokens(0, 2, 0)


def test_keygen_prints_a_callers_entry_that_works() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), "keygen", "local", "--rpm", "3", "--models", "qwen-plus"],
                          capture_output=True, text=True, timeout=60, check=True)
    key = done.stdout.split()[-1]
    entry = next(line for line in done.stdout.splitlines() if line.startswith("local:"))
    assert key not in entry and entry.startswith("local:sha256:")
    caller = MemoryCallerStore(parse_callers(entry)).find(key)
    assert (caller.name, caller.rpm, caller.models) == ("local", 3, ("qwen-plus",))
