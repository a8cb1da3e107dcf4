"""scripts/ask, the command-line client, against the function served over a socket."""

from __future__ import annotations

import base64
import os
import pty
import re
import select
import subprocess
import sys

import pytest

from scripts.dashscope_emulator import MULTIMODAL_PATH
from scripts.fc_process import free_port
from tests.conftest import ROOT, reached, sent_to_dashscope

pytestmark = pytest.mark.server
ASK = ROOT / "scripts" / "ask"


def ask(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ASK), *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_an_answer(server, emulator):
    result = ask("如何做西红柿炖牛腩?", "--url", server, "--model", "qwen-plus", "--system", "你是一位厨师。")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("如何做西红柿炖牛腩?")
    sent = emulator.last_request()["body"]
    assert sent["model"] == "qwen-plus" and sent["input"]["messages"][0]["content"] == "你是一位厨师。"


def test_a_streamed_prompt_prints_as_it_comes(server):
    process = subprocess.Popen(
        [sys.executable, str(ASK), "one two three four five six seven eight nine [[emulate chunk_delay=0.4]]", "--mode", "prompt", "--stream"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "QWEN_FC_URL": server},
    )
    first = process.stdout.read(12)  # arrives while the rest is still being generated
    assert first and process.poll() is None
    rest, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert (first + rest).strip().endswith("one two three four five six seven eight nine")


def test_errors_are_clear(server):
    result = ask("hi [[emulate status=429 code=Throttling.RateQuota]]", "--url", server)
    assert result.returncode == 1
    assert "error 429 Throttling.RateQuota" in result.stderr and "request id:" in result.stderr

    broken = ask("a b c d e f g h [[emulate fail_after=1 code=DataInspectionFailed]]", "--stream", "--url", server)
    assert broken.returncode == 1 and "DataInspectionFailed" in broken.stderr


def test_an_unreachable_function(server):
    result = ask("hi", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2 and "could not reach" in result.stderr


# -- images and thinking models (issue 12) ------------------------------------------------------

PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # what matters here is the bytes, sent as they are


def test_a_local_image_is_sent_as_a_data_url(server, emulator, tmp_path):
    (tmp_path / "photo.png").write_bytes(PICTURE)
    result = ask("图里有什么? local", "--image", str(tmp_path / "photo.png"), "--model", "qwen3.6-flash", "--system", "用中文。", "--url", server)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("You said: 图里有什么? local (shown: 1 image)")
    assert reached(emulator, "图里有什么? local")["path"] == MULTIMODAL_PATH
    messages = sent_to_dashscope(emulator, "图里有什么? local")["input"]["messages"]
    assert messages == [
        {"role": "system", "content": [{"text": "用中文。"}]},
        {"role": "user", "content": [
            {"image": "data:image/png;base64," + base64.b64encode(PICTURE).decode()}, {"text": "图里有什么? local"},
        ]},
    ]


def test_image_urls_go_as_they_are_and_files_without_a_telling_name_are_recognised(server, emulator, tmp_path):
    (tmp_path / "upload").write_bytes(PICTURE)  # no extension: the PNG signature says what it is
    result = ask("two pictures", "--image", "https://img.example.com/a.jpg", "--image", f"file://{tmp_path}/upload",
                 "--model", "qwen3.6-plus", "--url", server)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("(shown: 2 images)")
    assert reached(emulator, "two pictures")["path"] == MULTIMODAL_PATH
    parts = sent_to_dashscope(emulator, "two pictures")["input"]["messages"][-1]["content"]
    assert parts[0] == {"image": "https://img.example.com/a.jpg"}
    assert parts[1]["image"].startswith("data:image/png;base64,iVBORw0KGgo") and parts[2] == {"text": "two pictures"}


def test_an_image_that_cannot_be_sent_is_named_before_any_call(server, emulator, tmp_path):
    calls = len(emulator.history)
    missing = ask("hi", "--image", str(tmp_path / "nope.png"), "--url", server)
    assert missing.returncode == 2 and "--image" in missing.stderr and "nope.png" in missing.stderr
    (tmp_path / "notes.txt").write_text("not a picture")
    not_an_image = ask("hi", "--image", str(tmp_path / "notes.txt"), "--url", server)
    assert not_an_image.returncode == 2 and "notes.txt does not look like an image" in not_an_image.stderr
    prompt = ask("hi", "--image", "https://img.example.com/a.jpg", "--mode", "prompt", "--url", server)
    assert prompt.returncode == 2 and "--image needs messages mode" in prompt.stderr
    oss = ask("hi", "--image", "oss://bucket/cat.png", "--url", server)
    assert oss.returncode == 2 and "oss://bucket/cat.png: the function takes only http(s):// and data: URLs" in oss.stderr
    assert len(emulator.history) == calls


def test_streamed_reasoning_goes_to_stderr_marked(server):
    result = ask("为什么天空是蓝色的?", "--model", "qwen3-next-80b-a3b-thinking", "--stream", "--url", server)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "This is the DashScope emulator (qwen3-next-80b-a3b-thinking). You said: 为什么天空是蓝色的?\n"  # the answer alone
    assert result.stderr == "thinking: The user said: 为什么天空是蓝色的? I should answer plainly and name the emulator.\n"


def test_reasoning_is_dimmed_on_a_terminal(server):
    main, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, str(ASK), "你好", "--model", "qwen3-next-80b-a3b-thinking", "--stream", "--url", server],
                               stdout=subprocess.PIPE, stderr=terminal, env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    os.close(terminal)
    out, _ = process.communicate(timeout=30)
    shown = b""
    while select.select([main], [], [], 0.5)[0]:
        try:
            shown += os.read(main, 4096)
        except OSError:  # the terminal's other end is closed
            break
    os.close(main)
    assert process.returncode == 0 and out.decode().endswith("You said: 你好\n")
    text = shown.decode()
    assert text.startswith("\x1b[2mthinking:\x1b[0m \x1b[2m") and text.endswith("\x1b[0m\r\n")  # dim, then back to normal
    assert re.sub(r"\x1b\[\d+m", "", text) == "thinking: The user said: 你好 I should answer plainly and name the emulator.\r\n"


def test_an_error_while_the_model_thinks(server):
    result = ask("a b c d e f g h [[emulate fail_after=2 code=DataInspectionFailed]]", "--model", "qwen3-next-80b-a3b-thinking", "--stream", "--url", server)
    assert result.returncode == 1 and result.stdout == ""
    thought, error = result.stderr.split("\n")[:2]
    assert thought.startswith("thinking: The user said") and error.startswith("error ") and "DataInspectionFailed" in error


def test_think_and_no_think_set_enable_thinking(server, emulator):
    on = ask("think about it", "--model", "qwen-plus", "--think", "--stream", "--url", server)
    assert on.returncode == 0, on.stderr
    assert sent_to_dashscope(emulator, "think about it")["parameters"]["enable_thinking"] is True
    assert on.stderr.startswith("thinking: The user said: think about it")

    off = ask("do not think", "--model", "qwen3.5-plus", "--no-think", "--stream", "--url", server)
    assert off.returncode == 0, off.stderr
    assert sent_to_dashscope(emulator, "do not think")["parameters"]["enable_thinking"] is False
    assert off.stderr == "" and off.stdout.strip().endswith("You said: do not think")

    neither = ask("default thinking", "--model", "qwen-plus", "--url", server)
    assert neither.returncode == 0, neither.stderr
    assert "enable_thinking" not in sent_to_dashscope(emulator, "default thinking")["parameters"]


def test_reasoning_in_a_whole_answer(server):
    result = ask("一加一?", "--model", "deepseek-r1", "--url", server)  # thinks, and answers unstreamed too
    assert result.returncode == 0, result.stderr
    assert result.stdout == "This is the DashScope emulator (deepseek-r1). You said: 一加一?\n"
    assert result.stderr.startswith("thinking: The user said: 一加一?")


def test_the_multimodal_endpoints_content_lists_are_read(server, emulator, tmp_path):
    """DashScope's multimodal endpoint sends `content` as [{"text": ...}]: ask reads it, streamed
    and not, from a thinking vision model the function routes there."""
    (tmp_path / "photo.png").write_bytes(PICTURE)
    for stream in (["--stream"], []):
        marker = f"数一数{len(stream)}"
        result = ask(marker, "--image", str(tmp_path / "photo.png"), "--model", "qwen3.6-plus", *stream, "--url", server)
        assert result.returncode == 0, result.stderr
        assert reached(emulator, marker)["path"] == MULTIMODAL_PATH
        assert result.stdout == f"This is the DashScope emulator (qwen3.6-plus). You said: {marker} (shown: 1 image)\n"
        assert result.stderr.startswith(f"thinking: The user said: {marker}")