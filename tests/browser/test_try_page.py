"""The try-it page, end to end in headless Chromium (Debian's, driven by Playwright): a streamed
reply appears as it arrives, errors are shown plainly. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, TOKEN, printed_so_far
from tests.conftest import sent_to_dashscope

pytestmark = [pytest.mark.server, pytest.mark.browser]

def test_the_page_is_served_only_when_switched_on(page_server, server):
    response = requests.get(f"{page_server}/", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "<script src" not in response.text  # no external assets: the one <link> is an inline icon
    assert response.text.count("<link") == 1 and '<link rel="icon" href="data:,">' in response.text
    off = requests.get(f"{server}/", timeout=10)
    assert off.status_code == 404 and off.json()["code"] == "NotFound"


def test_a_streamed_reply_appears_as_it_arrives(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.fill("#token", TOKEN)
    page.fill("#model", "qwen-plus")
    page.fill("#system", "你是一位厨师。")
    page.fill("#text", "如何做西红柿炖牛腩? one two three four five six seven eight [[emulate chunk_delay=0.3]]")
    assert page.is_checked("#stream")
    page.click("#send")

    page.wait_for_function("document.getElementById('answer').textContent.length > 0")
    partial = page.text_content("#answer")
    assert "streaming" in page.text_content("#status")  # text is on screen while the stream goes on
    page.wait_for_function("document.getElementById('status').textContent.startsWith('request id')", timeout=20000)
    whole = page.text_content("#answer")
    assert whole.startswith(partial) and len(whole) > len(partial)
    assert whole.endswith("one two three four five six seven eight")
    assert "qwen-plus" in whole and page.is_hidden("#error")
    page.screenshot(path=str(ARTIFACTS / "try-page-stream.png"), full_page=True)


def test_prompt_mode_without_streaming(page, emulator):
    page.fill("#token", TOKEN)
    page.fill("#image-url", "https://img.example.com/unused.png")
    page.select_option("#mode", "prompt")
    assert page.is_hidden("#system") and page.is_hidden("#image-row") and page.is_hidden("#image-preview")
    page.uncheck("#stream")
    page.fill("#text", "写一首关于西湖的诗")
    page.click("#send")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('request id')")
    assert page.text_content("#answer").endswith("写一首关于西湖的诗")
    assert "unused.png" not in json.dumps(sent_to_dashscope(emulator, "写一首关于西湖的诗"))  # a prompt is text only


def test_errors_are_shown_plainly(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.fill("#text", "hello")
    page.click("#send")  # no token
    page.wait_for_selector("#error:not(.hidden)")
    assert page.text_content("#error").startswith("Error 401 InvalidToken:")

    page.fill("#token", TOKEN)
    page.fill("#text", "hi [[emulate status=429 code=Throttling.RateQuota message=\"Requests rate limit exceeded\"]]")
    page.click("#send")
    page.wait_for_function("document.getElementById('error').textContent.includes('429')")
    shown = page.text_content("#error")  # DashScope's words, then which of its limits it was
    assert shown.startswith("Error 429 Throttling.RateQuota: Requests rate limit exceeded (DashScope's requests-per-minute limit")
    assert shown.endswith("retry after 60 s)")
    assert page.text_content("#answer") == ""
    page.screenshot(path=str(ARTIFACTS / "try-page-error.png"), full_page=True)


def test_loading_the_page_requests_nothing_that_fails(browser, page_function):
    """Browsers ask for /favicon.ico unless the page names an icon, and the function serves none. The
    browser's own icon request is not a page event: the function's log shows it."""
    process, url = page_function
    context = browser.new_context()
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None)
    page.goto(f"{url}/")
    page.wait_for_load_state("networkidle")
    time.sleep(1.5)  # Chromium asks for the icon after the load, when it asks at all
    context.close()
    assert failed == []
    assert '"path":"/favicon.ico"' not in printed_so_far(process)


def test_chinese_is_drawn_in_a_cjk_font(browser):
    """Without a CJK font Chromium draws Chinese as boxes, and the screenshots show what no user sees
    (.ci/run installs fonts-wqy-microhei)."""
    families = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    assert families.strip(), "no CJK font: install one (apt-get install fonts-wqy-microhei)"
