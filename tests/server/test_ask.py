"""scripts/ask, the command-line client, against the function served over a socket."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scripts.fc_process import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.server
ASK = ROOT / "scripts" / "ask"


def ask(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ASK), *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_an_answer(server, emulator):
    result = ask("如何做西红柿炖牛腩?", "--url", server, "--model", "qwen-plus", "--system", "你是一位厨师。")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("如何做西红柿炖牛腩?")
    sent = emulator.last_request()["body"]
    assert sent["model"] == "qwen-plus" and sent["input"]["messages"][0]["content"] == "你是一位厨师。"


def test_a_streamed_prompt_prints_as_it_comes(server):
    process = subprocess.Popen(
        [sys.executable, str(ASK), "one two three four five six seven eight nine [[emulate chunk_delay=0.4]]", "--mode", "prompt", "--stream"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "QWEN_FC_URL": server},
    )
    first = process.stdout.read(12)  # arrives while the rest is still being generated
    assert first and process.poll() is None
    rest, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert (first + rest).strip().endswith("one two three four five six seven eight nine")


def test_errors_are_clear(server):
    result = ask("hi [[emulate status=429 code=Throttling.RateQuota]]", "--url", server)
    assert result.returncode == 1
    assert "error 429 Throttling.RateQuota" in result.stderr and "request id:" in result.stderr

    broken = ask("a b c d e f g h [[emulate fail_after=1 code=DataInspectionFailed]]", "--stream", "--url", server)
    assert broken.returncode == 1 and "DataInspectionFailed" in broken.stderr


def test_an_unreachable_function(server):
    result = ask("hi", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2 and "could not reach" in result.stderr
