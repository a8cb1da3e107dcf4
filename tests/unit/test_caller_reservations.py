"""The in-process store's reservations (issue 20, item 2), what a call reserves, the per-caller
in-flight setting (item 5), and names checked whole (item 12: a pattern's `$` matches before a
trailing newline, so patterns that validate input use fullmatch)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.callers import CallerLimitExceeded
from core.callers.memory_store import MemoryCallerStore
from core.callers.model import check_name
from core.callers.settings import parse_callers, parse_model_limits
from core.config import Config
from core.errors import InvalidRequest
from core.openai_parts import dashscope_content
from core.reservation import DEFAULT_RESERVED_OUTPUT_TOKENS, tokens_to_reserve
from core.types import EmbeddingCall, GenerationCall, TokenizationCall
from tests.conftest import ROOT

KEY = "qfc_" + "r" * 43


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_reservations_hold_a_budget_until_settled_and_lapse_if_never_settled() -> None:
    store = MemoryCallerStore(parse_callers(f"a:{KEY}:budget_tokens=1000"), clock=Clock(), reservation_ttl_s=600)
    caller = store.find(KEY)
    first = store.admit(caller, "qwen-plus", 600)
    second = store.admit(caller, "qwen-plus", 600)  # 600 reserved < 1000: admitted, and may overrun
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(caller, "qwen-plus", 1)  # 1,200 reserved: every further call waits
    assert refused.value.limit == "budget_reserved" and refused.value.retry_after_s == 1
    assert refused.value.code == "rate_limit_exceeded"  # not insufficient_quota: the budget is not spent
    store.settle(caller, "qwen-plus", {"input_tokens": 100, "output_tokens": 50}, first)
    store.settle(caller, "qwen-plus", {"input_tokens": 100, "output_tokens": 50}, second)
    [row] = store.usage("a")
    assert (row.requests, row.input_tokens, row.output_tokens) == (2, 200, 100)  # reservations are not usage
    orphan = store.admit(caller, "qwen-plus", 5000)  # its instance dies: never settled
    assert orphan is not None
    with pytest.raises(CallerLimitExceeded):
        store.admit(caller, "qwen-plus", 1)
    store._clock.now += 601
    store.admit(caller, "qwen-plus", 1)


def test_tpm_and_model_tpm_count_what_is_reserved() -> None:
    store = MemoryCallerStore(parse_callers(f"a:{KEY}:tpm=100"), model_limits=parse_model_limits("qwen-max:tpm=50"),
                              clock=Clock())
    caller = store.find(KEY)
    held = store.admit(caller, "qwen-plus", 100)
    with pytest.raises(CallerLimitExceeded) as refused:
        store.admit(caller, "qwen-plus", 1)
    assert refused.value.limit == "tpm" and refused.value.retry_after_s == 1
    store.settle(caller, "qwen-plus", {"input_tokens": 10, "output_tokens": 10}, held)
    store.admit(caller, "qwen-max", 50)
    with pytest.raises(CallerLimitExceeded, match="MODEL_LIMITS"):
        store.admit(caller, "qwen-max", 1)


def test_a_local_call_counts_the_callers_rpm_but_not_the_models() -> None:
    store = MemoryCallerStore(parse_callers(f"a:{KEY}:rpm=2"), model_limits=parse_model_limits("qwen-plus:rpm=1"),
                              clock=Clock())
    caller = store.find(KEY)
    store.admit(caller, "qwen-plus", model_limits=False)
    store.admit(caller, "qwen-plus")  # the model's one call a minute is still there
    with pytest.raises(CallerLimitExceeded) as refused:
        store.precheck(caller)  # checks, counts nothing
    assert refused.value.limit == "rpm"


def test_a_call_reserves_its_input_and_what_it_may_answer() -> None:
    plain = GenerationCall("qwen-plus", prompt="one two three")
    assert tokens_to_reserve(plain, counted_input=3) == 3 + DEFAULT_RESERVED_OUTPUT_TOKENS
    capped = GenerationCall("qwen-plus", prompt="one two three", parameters={"max_tokens": 20, "n": 2, "thinking_budget": 5})
    assert tokens_to_reserve(capped) == 3 + 2 * (20 + 5)  # counted with the local tokenizer
    assert tokens_to_reserve(EmbeddingCall("text-embedding-v4", ["one two", "three"])) == 3
    assert tokens_to_reserve(TokenizationCall("qwen-plus", prompt="one two")) == 0


def test_the_callers_share_defaults_below_max_in_flight() -> None:
    assert Config().caller_in_flight_limit == 16
    assert Config(max_in_flight=10).caller_in_flight_limit == 5 and Config(max_in_flight=1).caller_in_flight_limit == 1
    assert Config(max_in_flight=100).caller_in_flight_limit == 16
    assert Config.from_env({"CALLER_MAX_IN_FLIGHT": "3", "MAX_IN_FLIGHT": "4"}).caller_in_flight_limit == 3
    assert parse_callers(f"a:{KEY}:max_in_flight=2")[next(iter(parse_callers(f"a:{KEY}")))].max_in_flight == 2


@pytest.mark.parametrize("name", ["plain\n", "plain\r\n", "\nplain", "pla\nin"])
def test_a_name_with_a_newline_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_name(name)
    assert check_name("plain") == "plain"


def test_the_cli_refuses_a_name_with_a_trailing_newline() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "callers"), "keygen", "plain\n"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "caller name" in done.stderr and "qfc_" not in done.stdout


def test_an_audio_format_with_a_trailing_newline_is_refused() -> None:
    part = {"type": "input_audio", "input_audio": {"data": "SUQzBAAAAAAA", "format": "mp3\n"}}
    with pytest.raises(InvalidRequest) as refused:
        dashscope_content([part], "messages[0].content", "qwen3-omni-flash", multimodal=True)
    assert refused.value.param == "messages[0].content[0].input_audio.format"


def test_a_default_model_that_is_not_a_model_name_stops_the_start() -> None:
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="QWEN_MODEL must be a model name"):
        Config.from_env({"QWEN_MODEL": "qwen plus"})
