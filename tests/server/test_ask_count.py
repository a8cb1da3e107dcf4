"""scripts/ask --count: the input's token count from the function's /api/v1/tokenizer, no model call."""

from __future__ import annotations

import pytest
from dashscope.tokenizers.tokenizer import get_tokenizer

from tests.server.test_ask import ask

pytestmark = pytest.mark.server


def test_count_prints_the_token_count_and_calls_no_model(server, emulator):
    emulator.clear()
    text = "如何做西红柿炖牛腩? Tell me in three steps."
    result = ask(text, "--count", "--url", server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{len(get_tokenizer('qwen-plus').encode(text))}\n"
    prompt = ask("你好？", "--count", "--mode", "prompt", "--model", "qwen-max", "--url", server)
    assert prompt.stdout == "2\n"
    assert emulator.history == []


def test_count_errors_are_clear(server):
    result = ask("hi", "--count", "--model", "deepseek-v3", "--url", server)
    assert result.returncode == 1
    assert "error 400 InvalidParameter" in result.stderr and "Qwen models only" in result.stderr
    assert ask("hi", "--count", "--stream", "--url", server).returncode == 2
