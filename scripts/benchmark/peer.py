"""The peer: the LiteLLM proxy, in its own environment under .tools/ (never a project dependency),
run as its production guide recommends, relaying the same work to the emulator's compatible mode.

Its guide's production settings that apply without a database: a master key, verbose logging off,
JSON logs at ERROR level, spend and error logs off, the bundled model cost map (no fetch at start).
One worker, as the function has one worker (a small FC instance has a fraction of a vCPU; more
workers there would only share it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scripts.benchmark.common import GATEWAY_TOKEN, KEY, ROOT
from scripts.fc_process import free_port, start_server

VERSION = "1.108.0"
VENV = ROOT / ".tools" / "litellm-venv"
BINARY = VENV / "bin" / "litellm"
# What the benchmark calls it: an OpenAI model name the config maps to compatible mode's qwen-plus.
MODEL = "qwen-plus"
CONFIG = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
      api_base: {api_base}
      api_key: {key}
general_settings:
  master_key: {master_key}
  disable_spend_logs: true
  disable_error_logs: true
litellm_settings:
  set_verbose: false
  json_logs: true
  request_timeout: 600
"""


def installed_version() -> str | None:
    python = VENV / "bin" / "python"
    if not python.exists():
        return None
    found = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                           capture_output=True, text=True)
    return found.stdout.strip() or None


def install() -> None:
    """Create the environment with the machine's python3 (reused when it already holds the version)."""
    if installed_version() == VERSION and BINARY.exists():
        return
    print(f"installing litellm[proxy]=={VERSION} into {VENV.relative_to(ROOT)} (once)", file=sys.stderr)
    if not (VENV / "bin" / "python").exists():
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True, env={**os.environ, "PYTHONPATH": ""})
    subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", f"litellm[proxy]=={VERSION}"], check=True)


def environment() -> dict[str, str]:
    return {
        "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LITELLM_LOG": "ERROR",
        "LITELLM_MODE": "PRODUCTION",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def start_litellm(compatible_base_url: str, config_dir: Path) -> tuple[subprocess.Popen, str]:
    """The proxy in front of `compatible_base_url` (the emulator's /compatible-mode/v1)."""
    config = config_dir / "litellm-config.yaml"
    config.write_text(CONFIG.format(model=MODEL, api_base=compatible_base_url, key=KEY, master_key=GATEWAY_TOKEN))
    port = free_port()
    command = [str(BINARY), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    return start_server(command, environment(), port, ready_path="/health/liveliness")
