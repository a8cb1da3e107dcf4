"""The settings tables in docs/configuration.md (and its Chinese twin) name every setting the function
reads, each once, and nothing it does not read; the registry parameters the deploy docs list are
publish.yaml's; and the file names the docs cite exist."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from tests.conftest import ROOT


def read_by(path: str, *patterns: str) -> set[str]:
    text = (ROOT / path).read_text()
    return {name for pattern in patterns for name in re.findall(pattern, text)}


# What the function reads (core/config.py), what gunicorn.conf.py reads, the proxy and CA variables the
# upstream session reads once (core/upstream/session.py), and what scripts/run-local.sh reads.
CONFIG = read_by("core/config.py", r'env(?:iron)?, "([A-Z_]+)"', r'env\.get\("([A-Z_]+)"')
SERVER = read_by("gunicorn.conf.py", r'os\.environ, "([A-Z_]+)"', r"os\.environ\.get\(['\"]([A-Z_]+)['\"]")
PROXIES = {"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
LOCAL_RUN = {"EMULATOR_PORT", "LOCAL_REDIS_PORT"}


def table_settings(page: str) -> list[str]:
    """Every variable named in the first column of a settings table, as often as it is named."""
    return [name for line in (ROOT / page).read_text().splitlines() if line.startswith("| `")
            for name in re.findall(r"`([A-Z_]+)`", line.split("|")[1])]


@pytest.mark.parametrize("page", ["docs/configuration.md", "docs/configuration_zh.md"])
def test_the_settings_tables_name_what_the_function_reads_each_once(page):
    assert len(CONFIG) > 20 and {"PORT", "THREADS"} <= SERVER
    named = table_settings(page)
    twice = sorted(name for name, count in Counter(named).items() if count > 1)
    assert not twice, f"{page} names {twice} more than once"
    missing = (CONFIG | SERVER | PROXIES | LOCAL_RUN) - set(named)
    assert not missing, f"{page} lacks {sorted(missing)}"
    unknown = set(named) - (CONFIG | SERVER | PROXIES | LOCAL_RUN)
    assert not unknown, f"{page} documents {sorted(unknown)}, which nothing reads"


def test_the_local_run_settings_are_read_by_run_local():
    script = (ROOT / "scripts" / "run-local.sh").read_text()
    for name in LOCAL_RUN:
        assert "${" + name in script, name


PUBLISH_PARAMETERS = list(yaml.safe_load((ROOT / "publish.yaml").read_text())["Parameters"]["properties"])
COUNT_WORDS = {"en": {6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"},
               "zh": {6: "六项", 7: "七项", 8: "八项", 9: "九项", 10: "十项"}}


@pytest.mark.parametrize("page, language", [("docs/deploy.md", "en"), ("docs/deploy_zh.md", "zh")])
def test_the_deploy_docs_list_publish_yamls_parameters(page, language):
    text = (ROOT / page).read_text()
    section = text[text.index("\n## ", text.index("publish.yaml") - 200):]
    section = section[:section.index("```")]
    count = COUNT_WORDS[language][len(PUBLISH_PARAMETERS)]
    assert count in section, f"{page} does not say the registry asks for {len(PUBLISH_PARAMETERS)} fields ({count})"
    assert set(re.findall(r"\{\{ (\w+) \}\}", section)) == set(PUBLISH_PARAMETERS)
    assert set(re.findall(r"\(`(\w+)`", section)) >= set(PUBLISH_PARAMETERS), f"{page} names each parameter"


def test_the_requirements_comment_names_a_test_that_exists():
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        for cited in re.findall(r"\((tests/[\w/]+\.py)\)", (ROOT / requirements).read_text()):
            assert (ROOT / cited).exists(), f"{requirements} cites {cited}"


@pytest.mark.parametrize("page", ["README.md", "README_zh.md", "docs/deploy.md", "docs/deploy_zh.md"])
def test_the_s_cli_install_line_names_the_version_the_tests_use(page):
    tested = re.search(r"@serverless-devs/s@([\d.]+)", (ROOT / "scripts" / "test.sh").read_text()).group(1)
    installs = re.findall(r"npm install -g @serverless-devs/s(\S*)", (ROOT / page).read_text())
    assert installs and all(version == "@" + tested for version in installs), (page, installs, tested)
