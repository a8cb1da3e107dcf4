"""A test whose tool (redis-server, chromium) is not on PATH is skipped with one line naming the command
that installs it; in CI it fails instead. Never an error: run through pytest itself, with a PATH that
holds neither tool."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

NEEDS_THE_TOOLS = '''
from tests.browser.conftest import browser  # noqa: F401  (the browser tier's fixture)
from tests.redis_fixture import start_redis


def test_needs_redis(tmp_path):
    start_redis(tmp_path)


def test_needs_chromium(browser):
    pass
'''


def run_without_tools(tmp_path, **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "bin").mkdir()
    test_file = tmp_path / "test_needs_tools.py"
    test_file.write_text(NEEDS_THE_TOOLS)
    environ = {name: value for name, value in os.environ.items() if name != "CI"}
    environ |= {"PATH": str(tmp_path / "bin"), "PYTHONPATH": str(ROOT),
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env}  # the plugins are not what is tested: faster
    return subprocess.run([sys.executable, "-m", "pytest", str(test_file), "-rsf", "-q", "-p", "no:cacheprovider",
                           f"--rootdir={tmp_path}", "-c", os.devnull],
                          cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120)


def test_a_missing_tool_skips_its_test_with_the_install_command(tmp_path):
    result = run_without_tools(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 skipped" in result.stdout and "error" not in result.stdout.lower(), result.stdout
    skips = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 2
    assert any("redis-server is not installed: apt-get install redis-server" in line for line in skips), skips
    assert any("chromium is not installed: apt-get install chromium fonts-wqy-microhei" in line for line in skips), skips


def test_in_ci_a_missing_tool_fails_its_test(tmp_path):
    result = run_without_tools(tmp_path, CI="true")
    assert result.returncode == 1 and "skipped" not in result.stdout, result.stdout
    for needed in ("redis-server is not installed: apt-get install redis-server",
                   "chromium is not installed: apt-get install chromium fonts-wqy-microhei"):
        assert f"{needed} (scripts/test.sh does it when run as root) (CI must run every check)" in result.stdout
