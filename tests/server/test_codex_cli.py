"""The Codex CLI (`@openai/codex`, installed into .tools by scripts/test.sh) pointed at the function
with a `wire_api = "responses"` provider in its config.toml, offline, against the emulator: `codex exec`
streams a turn with Codex's own tools, runs the function call the model asks for, sends its output
back and ends with the model's answer. The config is the one docs/api.md gives users."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.tools import missing

pytestmark = pytest.mark.server

CODEX = ROOT / ".tools" / "node_modules" / ".bin" / "codex"


def config_toml(url: str) -> str:
    return f'''model = "qwen-plus"
model_provider = "qwen-fc"

[model_providers.qwen-fc]
name = "Qwen on Function Compute"
base_url = "{url}/v1"
env_key = "QWEN_FC_TOKEN"
wire_api = "responses"
'''


def test_codex_exec_completes_a_turn_with_a_tool_call(server, emulator, tmp_path: Path):
    if not CODEX.exists():
        missing("the Codex CLI is not installed: npm install --prefix .tools @openai/codex (scripts/test.sh does it)")
    home, work = tmp_path / "codex-home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(config_toml(server))
    emulator.clear()
    done = subprocess.run(
        [str(CODEX), "exec", "--skip-git-repo-check", "echo qwen-on-fc"], cwd=work, capture_output=True, text=True,
        timeout=180, stdin=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "CODEX_HOME": str(home),
             "QWEN_FC_TOKEN": "any-key"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # The emulator asked for Codex's first tool (exec_command) with what the user said: Codex ran it
    # and the model's answer quotes the tool's output.
    assert "The tool answered:" in done.stdout

    first, second = [seen["body"] for seen in emulator.history]
    assert first["model"] == "qwen-plus" and first["parameters"]["incremental_output"] is True  # streamed
    names = [tool["function"]["name"] for tool in first["parameters"]["tools"]]
    assert names[0] == "exec_command" and "close_agent" in names  # a namespace's functions, flattened
    assert "enable_search" not in first["parameters"]  # Codex's web_search asks for no live access
    assert first["input"]["messages"][-1] == {"role": "user", "content": "echo qwen-on-fc"}
    call, output = second["input"]["messages"][-2:]
    assert call["tool_calls"][0]["function"]["name"] == "exec_command"
    assert output["role"] == "tool" and output["tool_call_id"] == call["tool_calls"][0]["id"]
    assert "qwen-on-fc" in output["content"]
