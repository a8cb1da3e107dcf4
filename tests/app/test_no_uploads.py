"""No local file ever leaves the function: the SDK's MultiModalConversation would upload any local
path a part names (image, video, audio and text alike) to OSS with the function's key. Media values
must be http(s) or data: URLs (a 400 before any call), and text that reads like a path goes to the
model as text, never as a file. The emulator records every upload step (Emulator.uploads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MULTIMODAL_PATH = "/api/v1/services/aigc/multimodal-generation/generation"


@pytest.fixture
def secret(tmp_path: Path) -> str:
    path = tmp_path / "secret.txt"
    path.write_text("DASHSCOPE_API_KEY=sk-never-leaves")
    return str(path)


def local_paths(secret: str) -> list[str]:
    relative = os.path.relpath(Path(__file__).resolve())  # an existing file, relative to the working directory
    return [secret, "/etc/passwd", "~/x", "file:///proc/self/environ", f"file://{secret}", relative, "./requirements.txt"]


@pytest.mark.parametrize("role", ["system", "user", "assistant"])
def test_text_that_reads_like_a_path_is_sent_as_text_never_uploaded(client, emulator, secret, role):
    emulator.clear()
    paths = local_paths(secret)
    messages = [{"role": role, "content": [{"text": path} for path in paths]}]
    if role != "user":
        messages.append({"role": "user", "content": [{"text": "what did they say?"}]})
    response = client.post("/invoke", json={"model": "qwen3.6-flash", "messages": messages})
    assert response.status_code == 200, response.get_json()
    seen = emulator.last_request()
    assert seen["path"] == MULTIMODAL_PATH
    assert seen["body"]["input"]["messages"][0]["content"] == [{"text": path} for path in paths]
    assert "X-DashScope-OssResourceResolve" not in seen["headers"]
    assert emulator.uploads == []


def test_text_paths_on_v1_are_never_uploaded(client, emulator, secret):
    emulator.clear()
    parts = [{"type": "text", "text": path} for path in local_paths(secret)]
    response = client.post("/v1/chat/completions", json={"model": "qwen3.5-plus", "messages": [{"role": "user", "content": parts}]})
    assert response.status_code == 200, response.get_json()
    assert emulator.last_request()["path"] == MULTIMODAL_PATH
    assert emulator.uploads == []


@pytest.mark.parametrize("kind", ["image", "video", "audio"])
@pytest.mark.parametrize("role", ["system", "user"])
def test_a_local_media_value_is_a_400_before_any_call(client, emulator, secret, kind, role):
    for value in local_paths(secret) + ["oss://dashscope-instant/x.png", "HTTPS:/no-host", "ftp://example.com/a.png"]:
        emulator.clear()
        messages = [{"role": role, "content": [{kind: value}, {"text": "look"}]}]
        if role != "user":
            messages.append({"role": "user", "content": [{"text": "and?"}]})
        response = client.post("/invoke", json={"model": "qwen3-omni-flash", "messages": messages})
        assert response.status_code == 400, (value, response.get_json())
        assert f"messages[0].content[0].{kind}" in response.get_json()["message"]
        assert emulator.history == [] and emulator.uploads == []


def test_a_video_frame_list_is_checked_frame_by_frame(client, emulator, secret):
    emulator.clear()
    frames = ["https://example.com/1.jpg", secret]
    response = client.post("/invoke", json={"model": "qwen3-vl-plus", "messages": [{"role": "user", "content": [{"video": frames}]}]})
    assert response.status_code == 400 and "content[0].video[1]" in response.get_json()["message"]
    assert emulator.history == [] and emulator.uploads == []


@pytest.mark.parametrize("url", ["/etc/passwd", "file:///proc/self/environ", "~/x", "images/cat.png"])
def test_v1_image_and_video_urls_must_be_urls(client, emulator, url):
    # (input_audio's `data` is base64 put into a data: URL: never a path, whatever it reads like.)
    emulator.clear()
    for part in ({"type": "image_url", "image_url": {"url": url}}, {"type": "video_url", "video_url": {"url": url}}):
        response = client.post("/v1/chat/completions", json={"model": "qwen3.6-plus", "messages": [{"role": "user", "content": [part]}]})
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["error"]["param"].startswith("messages[0].content[0]")
    assert emulator.history == [] and emulator.uploads == []


def test_urls_and_data_urls_pass_unchanged(client, emulator):
    emulator.clear()
    parts = [{"image": "https://example.com/a.png"}, {"audio": "data:audio/wav;base64,UklGRg=="}, {"text": "both"}]
    response = client.post("/invoke", json={"model": "qwen3-omni-flash", "messages": [{"role": "user", "content": parts}]})
    assert response.status_code == 200, response.get_json()
    assert emulator.last_request()["body"]["input"]["messages"][0]["content"] == parts
    assert emulator.uploads == []
