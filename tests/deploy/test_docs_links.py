"""Every relative link in the READMEs and docs/ resolves: the file exists, and an anchor (#...) names
a heading of that file, as GitHub makes heading anchors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "README_zh.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def without_code_blocks(markdown: str) -> str:
    return re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)


def prose(markdown: str) -> str:
    """The text outside code blocks and inline code, where a link is a link."""
    return re.sub(r"`[^`\n]*`", "", without_code_blocks(markdown))


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower-cased, punctuation dropped, spaces as hyphens (-1, -2 for repeats)."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", without_code_blocks(markdown), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
        if seen[slug]:
            seen[f"{slug}-{seen[slug]}"] = 0
    return set(seen)


def relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(prose(page.read_text()))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]


def test_the_pages_have_links_to_check():
    assert len(PAGES) >= 18
    assert sum(len(relative_links(page)) for page in PAGES) > 30


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target}: no heading with that anchor in {file.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("readme", ["README.md", "README_zh.md"])
def test_the_readme_is_short_and_links_to_docs(readme):
    text = (ROOT / readme).read_text()
    assert len(text.splitlines()) <= 300
    linked = {target.split("#")[0] for target in relative_links(ROOT / readme)}
    suffix = "_zh" if readme.endswith("_zh.md") else ""
    for page in ("api", "configuration", "callers", "models", "deploy", "operations", "performance", "development"):
        assert f"docs/{page}{suffix}.md" in linked, f"{readme} does not link docs/{page}{suffix}.md"
