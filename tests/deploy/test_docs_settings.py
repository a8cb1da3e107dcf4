"""Every setting core/config.py reads is in both READMEs' configuration tables, and the file names the
docs cite exist."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

READ_SETTINGS = set(re.findall(r'env(?:iron)?, "([A-Z_]+)"', (ROOT / "core" / "config.py").read_text())) | set(
    re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "core" / "config.py").read_text()))


def table_settings(readme: str) -> set[str]:
    return {name for line in readme.splitlines() if line.startswith("| `") for name in
            re.findall(r"`([A-Z_]+)`", line.split("|")[1])}


@pytest.mark.parametrize("readme", ["README.md", "README_zh.md"])
def test_every_setting_is_in_the_configuration_table(readme):
    assert len(READ_SETTINGS) > 20
    missing = READ_SETTINGS - table_settings((ROOT / readme).read_text())
    assert not missing, f"{readme} lacks {sorted(missing)}"


def test_the_requirements_comment_names_a_test_that_exists():
    for cited in re.findall(r"\((tests/[\w/]+\.py)\)", (ROOT / "requirements.txt").read_text()):
        assert (ROOT / cited).exists(), cited
