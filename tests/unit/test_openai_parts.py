"""core/openai_parts.py: OpenAI content parts -> DashScope's native parts, or text for text models."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.openai_parts import dashscope_content, dashscope_part

PATH = "messages[0].content"


def test_every_openai_part_maps_to_its_native_part() -> None:
    content = [
        {"type": "text", "text": "compare these"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}, "max_pixels": 1003520},
        {"type": "input_audio", "input_audio": {"data": "SUQzBAAAAAAA", "format": "mp3"}},
        {"type": "input_audio", "input_audio": {"data": "https://example.com/a.wav", "format": "wav"}},
        {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}, "fps": 2},
        {"type": "video", "video": ["https://example.com/1.jpg", "https://example.com/2.jpg"]},
        {"type": "text", "text": "cached", "cache_control": {"type": "ephemeral"}},
    ]
    assert dashscope_content(content, PATH, "qwen3.5-plus", multimodal=True) == [
        {"text": "compare these"},
        {"image": "https://example.com/a.png"},  # detail has no DashScope equivalent: dropped
        {"image": "data:image/png;base64,iVBORw0KGgo=", "max_pixels": 1003520},
        {"audio": "data:audio/mp3;base64,SUQzBAAAAAAA"},
        {"audio": "https://example.com/a.wav"},
        {"video": "https://example.com/v.mp4", "fps": 2},
        {"video": ["https://example.com/1.jpg", "https://example.com/2.jpg"]},
        {"text": "cached", "cache_control": {"type": "ephemeral"}},
    ]


def test_an_image_url_given_as_a_bare_string_is_taken() -> None:
    part = {"type": "image_url", "image_url": "https://example.com/a.png"}
    assert dashscope_part(part, "p") == {"image": "https://example.com/a.png"}


@pytest.mark.parametrize(
    ("part", "param"),
    [
        ({"type": "image_url", "image_url": {"url": "file:///proc/self/environ"}}, f"{PATH}[0].image_url.url"),
        ({"type": "image_url", "image_url": {"url": "/etc/passwd"}}, f"{PATH}[0].image_url.url"),
        ({"type": "image_url", "image_url": {}}, f"{PATH}[0].image_url.url"),
        ({"type": "image_url", "image_url": "~/x.png"}, f"{PATH}[0].image_url"),
        ({"type": "video_url", "video_url": {"url": "oss://bucket/v.mp4"}}, f"{PATH}[0].video_url.url"),
        ({"type": "video", "video": ["https://e.com/1.jpg", "file:///etc/passwd"]}, f"{PATH}[0].video[1]"),
        ({"type": "video", "video": []}, f"{PATH}[0].video"),
        ({"type": "input_audio", "input_audio": {"data": "FILE:///etc/passwd", "format": "mp3"}},
         f"{PATH}[0].input_audio.data"),
        ({"type": "input_audio", "input_audio": {"data": "../../etc/passwd", "format": "mp3"}},
         f"{PATH}[0].input_audio.data"),
        ({"type": "input_audio", "input_audio": {"data": "SUQz", "format": "mp3;base64,x"}},
         f"{PATH}[0].input_audio.format"),
        ({"type": "input_audio", "input_audio": {"data": "SUQz"}}, f"{PATH}[0].input_audio.format"),
        ({"type": "input_audio", "input_audio": {"data": ""}}, f"{PATH}[0].input_audio.data"),
        ({"type": "input_audio", "input_audio": "SUQz"}, f"{PATH}[0].input_audio"),
        ({"type": "input_audio", "input_audio": {"data": "SUQz AA", "format": "mp3"}}, f"{PATH}[0].input_audio.data"),
        ({"type": "text", "text": 3}, f"{PATH}[0].text"),
        ({"type": "file", "file": {"file_id": "x"}}, f"{PATH}[0]"),
        ({"image": "https://example.com/a.png"}, f"{PATH}[0]"),  # native parts are /invoke's, not /v1's
        ("just a string", f"{PATH}[0]"),
    ],
)
def test_bad_or_unsafe_parts_are_refused_naming_the_openai_field(part: object, param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        dashscope_content([part], PATH, "qwen3-vl-plus", multimodal=True)
    assert refused.value.param == param


def test_a_file_url_as_audio_data_is_never_passed_on() -> None:
    # Not a URL DashScope fetches, and not base64: refused, never wrapped into a data: URL.
    part = {"type": "input_audio", "input_audio": {"data": "file:///etc/passwd", "format": "mp3"}}
    with pytest.raises(InvalidRequest) as refused:
        dashscope_part(part, "p")
    assert refused.value.param == "p.input_audio.data"


def test_a_text_model_gets_its_text_parts_joined() -> None:
    content = [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
    assert dashscope_content(content, PATH, "qwen-plus", multimodal=False) == "one\ntwo"
    assert dashscope_content("plain", PATH, "qwen-plus", multimodal=False) == "plain"
    assert dashscope_content(None, PATH, "qwen-plus", multimodal=False) is None


def test_a_text_model_refuses_media_parts_naming_the_model() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}}
    content = [{"type": "text", "text": "what is it"}, image]
    with pytest.raises(InvalidRequest) as refused:
        dashscope_content(content, PATH, "qwen-plus", multimodal=False)
    assert refused.value.param == f"{PATH}[1]"
    assert "'qwen-plus'" in refused.value.message and "image_url" in refused.value.message


def test_string_content_stays_a_string_for_multimodal_models() -> None:
    # core/media.py's multimodal_messages turns it into [{"text": ...}] for the whole list.
    assert dashscope_content("hello", PATH, "qwen3.5-plus", multimodal=True) == "hello"
