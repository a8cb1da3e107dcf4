"""scripts/check-dashscope, run as its user runs it: against the emulator as DashScope (its
DASHSCOPE_HTTP_BASE_URL), and through a function served as FC serves it (--function)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Iterator

import pytest

from scripts.dashscope_emulator import EMBEDDING_PATH, GENERATION_PATH, INVALID_KEY, MULTIMODAL_PATH
from scripts.fc_process import start_like_fc, stop
from tests.conftest import FAKE_KEY, ROOT, function_env

pytestmark = pytest.mark.server
CHECK = ROOT / "scripts" / "check-dashscope"
TOKEN = "check-dashscope-token-1234"
# What the user's shell holds, without anything that would point the script elsewhere.
OWN_SETTINGS = ("DASHSCOPE_API_KEY", "DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_REGION", "DASHSCOPE_WORKSPACE_ID", "INVOKE_TOKEN")


def check(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if name not in OWN_SETTINGS}
    return subprocess.run([sys.executable, str(CHECK), *args], capture_output=True, text=True, timeout=120,
                          env={**clean, **env})


def lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line[:1] in "✓✗"]


def on_emulator(emulator, **env: str) -> dict[str, str]:
    return {"DASHSCOPE_API_KEY": FAKE_KEY, "DASHSCOPE_HTTP_BASE_URL": emulator.base_url, **env}


def test_every_family_is_checked_against_dashscope_and_passes(emulator):
    emulator.clear()
    result = check(**on_emulator(emulator, DASHSCOPE_WORKSPACE_ID="ws-check-1"))
    assert result.returncode == 0, result.stdout + result.stderr
    checked = lines(result)
    assert len(checked) == 5 and all(line.startswith("✓") for line in checked)
    assert [line.split()[1] for line in checked] == ["text", "thinking", "vision", "embeddings", "tokenizer"]
    assert "'hello world' is 2 tokens" in checked[4] and "thought" in checked[1]
    # What reached "DashScope": each family on its endpoint, the owner's workspace named on every call.
    seen = emulator.history
    assert [(call["path"], call["body"]["model"]) for call in seen] == [
        (GENERATION_PATH, "qwen-plus"), (MULTIMODAL_PATH, "qwen3.6-flash"), (MULTIMODAL_PATH, "qwen3.6-plus"),
        (EMBEDDING_PATH, "text-embedding-v4"),
    ]
    assert all(call["headers"].get("X-Dashscope-Workspace") == "ws-check-1" for call in seen)
    assert seen[1]["stream"] and seen[1]["body"]["parameters"]["enable_thinking"] is True
    image = seen[2]["body"]["input"]["messages"][0]["content"][0]["image"]
    assert image.startswith("data:image/png;base64,")


def test_a_refused_key_is_a_cross_with_dashscopes_words_and_a_failing_exit(emulator):
    result = check(**on_emulator(emulator, DASHSCOPE_API_KEY=INVALID_KEY))
    assert result.returncode == 1
    crossed = [line for line in lines(result) if line.startswith("✗")]
    assert len(crossed) == 4 and all("401 InvalidApiKey" in line for line in crossed)
    assert lines(result)[-1].startswith("✓ tokenizer")  # no DashScope call, so no key needed
    assert INVALID_KEY not in result.stdout + result.stderr and "Traceback" not in result.stderr


def test_without_a_key_it_refuses_in_one_line_naming_it(emulator):
    emulator.clear()
    result = check(DASHSCOPE_HTTP_BASE_URL=emulator.base_url)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "DASHSCOPE_API_KEY" in result.stderr
    assert emulator.history == []


def test_a_bad_region_is_refused_like_the_function_refuses_it(emulator):
    result = check(DASHSCOPE_API_KEY=FAKE_KEY, DASHSCOPE_REGION="mars")
    assert result.returncode == 2 and "DASHSCOPE_REGION" in result.stderr


def test_the_base_url_wins_over_the_region_as_in_the_function(emulator):
    result = check(**on_emulator(emulator, DASHSCOPE_REGION="intl"))
    assert result.returncode == 0 and f"DashScope at {emulator.base_url}" in result.stdout


def test_model_names_are_flags(emulator):
    emulator.clear()
    result = check("--thinking-model", "qwen3.6-plus", "--vision-model", "qwen3.6-flash", "--text-model", "qwen-flash",
                   **on_emulator(emulator))
    assert result.returncode == 0, result.stdout
    assert [call["body"]["model"] for call in emulator.history[:3]] == ["qwen-flash", "qwen3.6-plus", "qwen3.6-flash"]


def test_a_vision_model_the_function_routes_to_the_text_endpoint_fails_the_vision_check(emulator):
    result = check("--vision-model", "qwen-plus", **on_emulator(emulator))
    assert result.returncode == 1
    (crossed,) = [line for line in lines(result) if line.startswith("✗")]
    assert crossed.startswith("✗ vision") and "text endpoint" in crossed and "MULTIMODAL_MODELS" in crossed


# -- through a deployed function ------------------------------------------------------------------


@pytest.fixture(scope="module")
def function(emulator) -> Iterator[str]:
    process, url = start_like_fc(function_env(emulator, INVOKE_TOKEN=TOKEN))
    yield url
    stop(process)


def test_every_door_of_a_function_is_checked_without_the_owners_key(function, emulator):
    emulator.clear()
    result = check("--function", function, INVOKE_TOKEN=TOKEN)  # --token defaults to $INVOKE_TOKEN
    assert result.returncode == 0, result.stdout + result.stderr
    checked = lines(result)
    assert len(checked) == 9 and all(line.startswith("✓") for line in checked)
    doors = " ".join(checked)
    for door in ("/invoke", "/v1/chat/completions", "/v1/embeddings", "/api/v1 TextEmbedding", "/api/v1/tokenizer"):
        assert door in doors
    # Every call but the tokenizer's (answered by the function itself) reached DashScope.
    assert len(emulator.history) == 8
    assert {call["body"]["model"] for call in emulator.history} == {"qwen-plus", "qwen3.6-flash", "qwen3.6-plus", "text-embedding-v4"}


def test_a_wrong_token_is_a_cross_on_every_door(function, emulator):
    emulator.clear()
    result = check("--function", function, "--token", "not-the-token")
    assert result.returncode == 1
    assert len(lines(result)) == 9 and all(line.startswith("✗") and " 401 InvalidToken" in line for line in lines(result))
    assert emulator.history == []
