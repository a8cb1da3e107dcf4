"""The browser tier's fixtures: the function under gunicorn with the try-it page on, and Debian's
Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
import pytest

from scripts.fc_process import start_like_fc, stop
from tests.conftest import ROOT, function_env
from tests.tools import tool

ARTIFACTS = ROOT / "tests" / "artifacts"
TOKEN = "page-test-token"
# Chromium's own background traffic has nowhere to go on this network: keep it quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page_function(emulator):
    process, url = start_like_fc(function_env(emulator, TRY_PAGE="1", INVOKE_TOKEN=TOKEN))
    yield process, url
    stop(process)


@pytest.fixture(scope="module")
def page_server(page_function):
    return page_function[1]


def printed_so_far(process) -> str:
    """What the server has printed until now (pread: the server's own write offset stays put)."""
    output = process.output_file
    return os.pread(output.fileno(), 1 << 24, 0).decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def browser():
    chromium = tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, page_server):
    # bypass_csp: wait_for_function evaluates strings, which the page's policy forbids (tested on its
    # own in test_try_page_policy.py).
    context = browser.new_context(viewport={"width": 900, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{page_server}/")
    yield page
    context.close()


