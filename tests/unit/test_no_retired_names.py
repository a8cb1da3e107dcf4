"""No default, example, page or benchmark names a model DashScope retired (core/retired_models.py), other
than the retirement table itself: in Markdown, between `<!-- retired-models -->` and
`<!-- /retired-models -->`. A retired name in an example is a call that fails for whoever copies it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.retired_models import RETIRED

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ["s.yaml", "publish.yaml", "README.md", "README_zh.md", "handlers/page/try_page.html", "scripts/ask",
           "scripts/callers", "core/config.py", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.md")),
           *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("events/*")),
           *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("scripts/benchmark/*.py"))]
# A retired name, or one of its snapshots (`qwen-turbo-latest`), never a longer name that contains it.
RETIRED_NAME = re.compile(rf"(?<![\w.-])({'|'.join(map(re.escape, RETIRED))})(?![\w.])", re.IGNORECASE)
TABLE = re.compile(r"<!-- retired-models -->.*?<!-- /retired-models -->", re.DOTALL)


@pytest.mark.parametrize("path", CHECKED)
def test_no_retired_model_is_named_outside_the_retirement_table(path):
    text = TABLE.sub("", (ROOT / path).read_text(encoding="utf-8"))
    found = [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in RETIRED_NAME.finditer(text)]
    assert found == [], f"{path} names retired models (line, name; lines counted without the table): {found}"


def test_the_check_finds_a_retired_name_and_skips_the_table():
    assert RETIRED_NAME.search('model: "qwen-turbo"') and RETIRED_NAME.search("qwen-vl-max-latest")
    assert not RETIRED_NAME.search("qwen-turbo2 my-qwen-turbo qwen3.6-plus")
    assert TABLE.sub("", "a <!-- retired-models -->qwen-turbo<!-- /retired-models --> b") == "a  b"
