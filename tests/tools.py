"""The tools some tests need beside Python (Debian's redis-server and chromium), found on PATH.

scripts/test.sh installs them when it runs as root with apt. Elsewhere a test whose tool is missing is
skipped, with one line naming the command that installs it; in CI (`CI` set), where nothing may be
skipped, it fails instead."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

INSTALL = {
    "redis-server": "apt-get install redis-server",
    "chromium": "apt-get install chromium fonts-wqy-microhei",
}


def missing(what: str) -> NoReturn:
    """Skip a check whose tool is not installed here, but never in CI, where scripts/test.sh installs it all."""
    if os.environ.get("CI", "").lower() not in {"", "0", "false"}:
        pytest.fail(f"{what} (CI must run every check)", pytrace=False)
    pytest.skip(what)


def tool(name: str) -> str:
    """The tool's path on PATH, or the test is skipped (failed in CI) with the command that installs it."""
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not installed: {INSTALL[name]} (scripts/test.sh does it when run as root)")
    return found
