"""The try-it page with today's models, in headless Chromium: a thinking model's reasoning streams into
a block of its own, and an image (a URL, or a file read as a data: URL) goes as a DashScope part."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from scripts.dashscope_emulator import MULTIMODAL_PATH
from tests.browser.conftest import ARTIFACTS, TOKEN
from tests.conftest import reached, sent_to_dashscope

pytestmark = [pytest.mark.server, pytest.mark.browser]


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
    send(page, "为什么天空是蓝色的? [[emulate chunk_delay=0.3]]", model="qwen3-next-80b-a3b-thinking")

    page.wait_for_function("document.getElementById('reasoning').textContent.length > 0")
    assert page.is_visible("#thinking") and page.get_attribute("#thinking", "open") is not None
    assert page.text_content("#thinking-summary") == "Thinking…" and page.text_content("#answer") == ""
    assert page.text_content("#status") == "thinking…"
    page.screenshot(path=str(ARTIFACTS / "try-page-thinking.png"), full_page=True)

    wait_for_the_answer(page)
    reasoning, answer = page.text_content("#reasoning"), page.text_content("#answer")
    assert reasoning == "The user said: 为什么天空是蓝色的? I should answer plainly and name the emulator."
    assert answer == "This is the DashScope emulator (qwen3-next-80b-a3b-thinking). You said: 为什么天空是蓝色的?"
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
    send(page, "图里有什么? url", model="qwen3.6-flash")
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
    send(page, "too big", model="qwen3.6-flash")
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
    send(page, "数一数条纹", model="qwen3.6-plus")  # sees images, thinks
    page.wait_for_function("document.getElementById('answer').textContent.endsWith('(shown: 1 image)')")
    assert reached(emulator, "数一数条纹")["path"] == MULTIMODAL_PATH
    assert page.text_content("#answer") == "This is the DashScope emulator (qwen3.6-plus). You said: 数一数条纹 (shown: 1 image)"
    assert page.text_content("#reasoning").startswith("The user said: 数一数条纹")


def test_an_error_while_the_model_thinks_is_shown_and_the_reasoning_kept(page):
    send(page, "a b c d e f g h [[emulate fail_after=2 code=DataInspectionFailed message=\"Output data may contain inappropriate content.\"]]", model="qwen3-next-80b-a3b-thinking")
    page.wait_for_selector("#error:not(.hidden)")
    assert page.text_content("#error").endswith("DataInspectionFailed: Output data may contain inappropriate content.")
    assert page.text_content("#reasoning").startswith("The user said") and page.text_content("#answer") == ""
    assert page.text_content("#thinking-summary").startswith("Thinking stopped after ")
