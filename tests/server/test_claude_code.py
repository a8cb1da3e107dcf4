"""Claude Code itself (`@anthropic-ai/claude-code`, installed into .tools by scripts/test.sh), run as
`claude -p` with ANTHROPIC_BASE_URL at the function under gunicorn, offline, in front of the emulator.
It sends `POST /v1/messages?beta=true`, streamed, with its tools, `thinking`, `context_management`,
`output_config` and `metadata`. The emulator calls the first tool offered (Bash, with Agent
disallowed); Claude Code, which has no permission to run it in -p mode, answers with an error
tool_result, and the emulator's reply to that is what Claude Code prints: a whole tool round trip."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Iterator

import pytest

from scripts.fc_process import start_like_fc, stop
from tests.conftest import ROOT, function_env
from tests.tools import missing

pytestmark = pytest.mark.server

CLAUDE = ROOT / ".tools" / "node_modules" / ".bin" / "claude"
TOKEN = "owner-token-claude-code"


@pytest.fixture(scope="module")
def function(emulator) -> Iterator[str]:
    process, url = start_like_fc(function_env(emulator, INVOKE_TOKEN=TOKEN, ANTHROPIC_MODEL_MAP="claude-*=qwen-flash"))
    yield url
    stop(process)


def test_claude_code_completes_a_tool_round_trip_through_the_function(function, emulator, tmp_path):
    if not CLAUDE.exists():
        missing("Claude Code is not installed: npm install --prefix .tools @anthropic-ai/claude-code@2.1.332 "
                "(scripts/test.sh does it)")
    emulator.clear()
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path),
        # The exact lines docs/api.md gives.
        "ANTHROPIC_BASE_URL": function, "ANTHROPIC_AUTH_TOKEN": TOKEN, "ANTHROPIC_MODEL": "qwen3.6-plus",
        "ANTHROPIC_SMALL_FAST_MODEL": "qwen-flash", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    done = subprocess.run([str(CLAUDE), "-p", "Say hello", "--disallowedTools", "Agent"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180, check=False)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("The tool answered: "), done.stdout  # the emulator's answer to the tool_result
    calls = [seen["body"] for seen in emulator.history]
    assert len(calls) == 2  # the turn that called the tool, and the one after its result
    first, second = calls
    assert first["model"] == "qwen3.6-plus"
    tools = [tool["function"]["name"] for tool in first["parameters"]["tools"]]
    assert len(tools) >= 10 and "Bash" in tools and "Agent" not in tools
    assert first["parameters"]["enable_thinking"] is True  # Claude Code's `thinking` (adaptive)
    messages = first["input"]["messages"]
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
    assert "Say hello" in json.dumps(messages[-1], ensure_ascii=False)
    markers = [part for m in messages if isinstance(m["content"], list) for part in m["content"] if "cache_control" in part]
    assert markers and all(part["cache_control"] == {"type": "ephemeral"} for part in markers)
    assert second["input"]["messages"][-2]["tool_calls"][0]["function"]["name"] == "Bash"
    assert second["input"]["messages"][-1]["role"] == "tool"
