"""The try-it page, end to end in headless Chromium (Debian's, driven by Playwright): a streamed
reply appears as it arrives, errors are shown plainly. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest
import requests

from scripts.dashscope_emulator import MULTIMODAL_PATH
from scripts.fc_process import start_like_fc, stop
from tests.conftest import ROOT, function_env

pytestmark = pytest.mark.server

CHROMIUM = Path("/usr/bin/chromium")
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
    if not CHROMIUM.exists():
        what = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        pytest.fail(f"{what}; CI must run every check") if os.environ.get("CI") else pytest.skip(what)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, page_server):
    context = browser.new_context(viewport={"width": 900, "height": 900})
    page = context.new_page()
    page.goto(f"{page_server}/")
    yield page
    context.close()


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
    assert page.text_content("#error") == "Error 429 Throttling.RateQuota: Requests rate limit exceeded"
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


# -- thinking models and images (issue 12) ------------------------------------------------------

def png(width: int = 96, height: int = 64) -> bytes:
    """A small real PNG (orange and white stripes), made here so that no test file is needed."""
    rows = b"".join(
        b"\x00" + b"".join(b"\xff\x6a\x00" if (x // 8 + y // 8) % 2 else b"\xff\xff\xff" for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def reached(emulator, marker: str) -> dict:
    """The model call that carried `marker` (its path says which endpoint it reached)."""
    for seen in reversed(emulator.history):
        if marker in json.dumps(seen["body"], ensure_ascii=False):
            return seen
    raise AssertionError(f"no call carrying {marker!r} reached the emulator")


def sent_to_dashscope(emulator, marker: str) -> dict:
    """The body of the model call that carried `marker`."""
    return reached(emulator, marker)["body"]


def send(page, text: str, model: str | None = None) -> None:
    page.fill("#token", TOKEN)
    if model:
        page.fill("#model", model)
    page.fill("#text", text)
    page.click("#send")


def wait_for_the_answer(page) -> None:
    page.wait_for_function("document.getElementById('status').textContent.startsWith('request id')", timeout=20000)


def test_reasoning_streams_into_a_block_that_folds_away_when_the_answer_starts(page, emulator):
    ARTIFACTS.mkdir(exist_ok=True)
    send(page, "为什么天空是蓝色的? [[emulate chunk_delay=0.3]]", model="qwq-plus")

    page.wait_for_function("document.getElementById('reasoning').textContent.length > 0")
    assert page.is_visible("#thinking") and page.get_attribute("#thinking", "open") is not None
    assert page.text_content("#thinking-summary") == "Thinking…" and page.text_content("#answer") == ""
    assert page.text_content("#status") == "thinking…"
    page.screenshot(path=str(ARTIFACTS / "try-page-thinking.png"), full_page=True)

    wait_for_the_answer(page)
    reasoning, answer = page.text_content("#reasoning"), page.text_content("#answer")
    assert reasoning == "The user said: 为什么天空是蓝色的? I should answer plainly and name the emulator."
    assert answer == "This is the DashScope emulator (qwq-plus). You said: 为什么天空是蓝色的?"
    assert page.get_attribute("#thinking", "open") is None  # folded once the answer began
    assert page.text_content("#thinking-summary").startswith("Thought for ")
    page.screenshot(path=str(ARTIFACTS / "try-page-thought.png"), full_page=True)
    page.click("#thinking-summary")  # and it opens again
    assert page.is_visible("#reasoning")
    assert "enable_thinking" not in sent_to_dashscope(emulator, "天空")["parameters"]  # the model's default


def test_the_thinking_switch_sets_enable_thinking(page, emulator):
    page.select_option("#thinking-mode", "on")
    send(page, "thinking on, please", model="qwen-plus")
    wait_for_the_answer(page)
    assert sent_to_dashscope(emulator, "thinking on, please")["parameters"]["enable_thinking"] is True
    assert page.is_visible("#thinking") and "thinking on, please" in page.text_content("#reasoning")

    page.select_option("#thinking-mode", "off")
    send(page, "thinking off, please", model="qwen3.5-plus")  # thinks by default
    wait_for_the_answer(page)
    assert sent_to_dashscope(emulator, "thinking off, please")["parameters"]["enable_thinking"] is False
    assert page.is_hidden("#thinking") and page.text_content("#answer").endswith("thinking off, please")


def test_an_image_url_is_sent_as_a_dashscope_part(page, emulator):
    # The browser asks for the preview; it is answered here, so nothing leaves the machine.
    page.route("https://img.example.com/stripes.png", lambda route: route.fulfill(body=png(), content_type="image/png"))
    page.fill("#system", "只用中文回答。")
    page.fill("#image-url", "https://img.example.com/stripes.png")
    page.wait_for_function("document.getElementById('preview').naturalWidth === 96")
    send(page, "图里有什么? url", model="qwen-vl-plus")
    wait_for_the_answer(page)

    assert reached(emulator, "图里有什么? url")["path"] == MULTIMODAL_PATH
    messages = sent_to_dashscope(emulator, "图里有什么? url")["input"]["messages"]
    assert messages == [
        {"role": "system", "content": [{"text": "只用中文回答。"}]},
        {"role": "user", "content": [{"image": "https://img.example.com/stripes.png"}, {"text": "图里有什么? url"}]},
    ]
    assert page.text_content("#answer").endswith("You said: 图里有什么? url (shown: 1 image)")
    assert page.is_hidden("#error")


def test_a_picked_file_is_sent_as_a_data_url(page, emulator):
    ARTIFACTS.mkdir(exist_ok=True)
    picture = png()
    page.set_input_files("#image-file", files=[{"name": "stripes.png", "mimeType": "image/png", "buffer": picture}])
    page.wait_for_function("document.getElementById('preview').naturalWidth === 96")
    assert page.text_content("#image-note") == "stripes.png, 1 KB, sent as a data: URL"
    send(page, "这张图是什么颜色? file", model="qwen3.5-plus")  # sees images and thinks by default
    wait_for_the_answer(page)

    assert reached(emulator, "这张图是什么颜色? file")["path"] == MULTIMODAL_PATH
    user = sent_to_dashscope(emulator, "这张图是什么颜色? file")["input"]["messages"][-1]
    assert user["content"] == [
        {"image": "data:image/png;base64," + base64.b64encode(picture).decode()},
        {"text": "这张图是什么颜色? file"},
    ]
    assert page.text_content("#answer").endswith("(shown: 1 image)")
    assert "这张图是什么颜色?" in page.text_content("#reasoning")
    assert page.text_content("#thinking-summary").startswith("Thought for ")
    page.screenshot(path=str(ARTIFACTS / "try-page-image.png"), full_page=True)

    page.click("#image-clear")  # and without it, the next question is plain text again
    assert page.is_hidden("#image-preview") and page.is_hidden("#image-clear")
    send(page, "no picture now")
    wait_for_the_answer(page)
    # (still qwen3.5-plus, on the multimodal endpoint: the function sends its text as a part)
    assert sent_to_dashscope(emulator, "no picture now")["input"]["messages"][-1]["content"] == [{"text": "no picture now"}]


def test_an_image_too_big_for_the_function_gets_its_error(page, emulator):
    calls_before = len(emulator.history)
    big = b"\x89PNG\r\n\x1a\n" + bytes(900 * 1024)  # a data: URL of it is over MAX_BODY_BYTES (1 MiB)
    page.set_input_files("#image-file", files=[{"name": "big.png", "mimeType": "image/png", "buffer": big}])
    page.wait_for_selector("#image-preview:not(.hidden)")
    send(page, "too big", model="qwen-vl-plus")
    page.wait_for_selector("#error:not(.hidden)")
    assert page.text_content("#error").startswith("Error 413 ")
    assert page.text_content("#answer") == "" and len(emulator.history) == calls_before


def test_an_error_page_from_a_gateway_is_shown_as_text(page):
    # What a proxy or gateway in front of the function may answer: not JSON.
    page.route("**/invoke/messages", lambda route: route.fulfill(status=502, body="<html>Bad Gateway</html>", content_type="text/html"))
    send(page, "hi")
    page.wait_for_selector("#error:not(.hidden)")
    assert page.text_content("#error") == "Error 502: <html>Bad Gateway</html>"


def test_a_non_streamed_reasoning_is_shown_folded(page):
    page.uncheck("#stream")
    send(page, "一加一等于几?", model="deepseek-r1")  # thinks, and answers without streaming too
    wait_for_the_answer(page)
    assert page.text_content("#thinking-summary") == "Reasoning" and page.get_attribute("#thinking", "open") is None
    assert page.text_content("#reasoning").startswith("The user said: 一加一等于几?")
    assert page.text_content("#answer") == "This is the DashScope emulator (deepseek-r1). You said: 一加一等于几?"


def test_the_multimodal_endpoints_content_lists_are_read(page, emulator):
    """The multimodal endpoint's `content` is [{"text": ...}]: the page reads the stream of a thinking
    vision model, which the function routes there."""
    page.set_input_files("#image-file", files=[{"name": "stripes.png", "mimeType": "image/png", "buffer": png()}])
    page.wait_for_selector("#image-preview:not(.hidden)")
    send(page, "数一数条纹", model="qvq-max")  # sees images, thinks
    page.wait_for_function("document.getElementById('answer').textContent.endsWith('(shown: 1 image)')")
    assert reached(emulator, "数一数条纹")["path"] == MULTIMODAL_PATH
    assert page.text_content("#answer") == "This is the DashScope emulator (qvq-max). You said: 数一数条纹 (shown: 1 image)"
    assert page.text_content("#reasoning").startswith("The user said: 数一数条纹")


def test_an_error_while_the_model_thinks_is_shown_and_the_reasoning_kept(page):
    send(page, "a b c d e f g h [[emulate fail_after=2 code=DataInspectionFailed message=\"Output data may contain inappropriate content.\"]]", model="qwq-plus")
    page.wait_for_selector("#error:not(.hidden)")
    assert page.text_content("#error").endswith("DataInspectionFailed: Output data may contain inappropriate content.")
    assert page.text_content("#reasoning").startswith("The user said") and page.text_content("#answer") == ""
    assert page.text_content("#thinking-summary").startswith("Thinking stopped after ")
