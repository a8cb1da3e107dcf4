"""core/media.py: only http(s):// and data: URLs reach the SDK, whatever the role or the part."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.media import check_media, media_paths, multimodal_messages, refuse_media_for_text_model, safe_media_url

UNSAFE = [
    "file:///proc/self/environ",
    "file:///etc/passwd",
    "file://etc/hostname",  # the SDK reads this as a relative path
    "FILE:///etc/passwd",
    " file:///etc/passwd",
    "\tfile:///etc/passwd",
    "/etc/passwd",
    "/proc/self/environ",
    "~/x",
    "~root/.ssh/id_rsa",
    "etc/hostname",
    "./rel.png",
    "../rel.png",
    "rel.txt",
    "C:\\Windows\\win.ini",
    "javascript:alert(1)",
    "oss://dashscope-instant/upload/a.png",
    "OSS://x/y",
    "ftp://example.com/a.png",
    "http:/example.com/a.png",
    "https:///etc/passwd",
    "https://",
    "https://[::1",
    " https://example.com/a.png",  # leading whitespace: the scheme must open the value
    "\u3000https://example.com/a.png",
    "\u200bhttps://example.com/a.png",
    "https://example.com/a.png\n",
    "https://example.com/a b.png",
    "https://example.com/\x00.png",
    "data:",
    "data:image/png;base64",  # no comma, no data
    "data:image/png;base64,",
    "data:,hello",  # media is binary: base64 only
    "data:image/png,raw",
    "data:image/png;base64,../../etc/passwd",
    "data:../..;base64,AAAA",
    "data:image/png;base64,AAAA.",
    "httpsx://example.com",
    "/etc/passwd#https://example.com",  # the scheme must open the value, not appear inside it
    "file:///etc/passwd?u=https://example.com",
    "~/x.png?data:image/png;base64,AAAA",
    "",
]
SAFE = [
    "https://example.com/cat.png",
    "http://example.com/cat.png",
    "https://example.com:8443/a.png?x=1&y=%20#frag",
    "https://user@example.com/a.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:audio/mp3;base64,SUQz",
    "data:image/svg+xml;charset=utf-8;base64,PHN2Zz4=",
]


@pytest.mark.parametrize("value", UNSAFE)
def test_anything_but_an_http_or_data_url_is_refused_naming_the_part(value: str) -> None:
    messages = [{"role": "system", "content": "hi"}, {"role": "user", "content": [{"image": value}]}]
    with pytest.raises(InvalidRequest) as refused:
        check_media(messages)
    assert refused.value.param == "messages[1].content[0].image"
    assert "`messages[1].content[0].image`" in refused.value.message
    assert refused.value.status == 400


@pytest.mark.parametrize("value", SAFE)
def test_http_and_data_urls_pass_unchanged(value: str) -> None:
    messages = [{"role": "user", "content": [{"text": "what is this?"}, {"image": value}]}]
    assert check_media(messages) is messages
    assert safe_media_url(value, "p") == value


@pytest.mark.parametrize("key", ["image", "audio", "video"])
@pytest.mark.parametrize("role", ["user", "system", "assistant", "tool"])
def test_every_media_key_in_every_role_is_checked(key: str, role: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_media([{"role": role, "content": [{"text": "x"}, {key: "/etc/passwd"}]}])
    assert refused.value.param == f"messages[0].content[1].{key}"


def test_a_video_as_frames_is_checked_frame_by_frame() -> None:
    frames = ["https://example.com/1.jpg", "data:image/jpeg;base64,AAAA", "~/.ssh/id_rsa", "https://example.com/4.jpg"]
    with pytest.raises(InvalidRequest) as refused:
        check_media([{"role": "user", "content": [{"video": frames}]}])
    assert refused.value.param == "messages[0].content[0].video[2]"
    good = [{"role": "user", "content": [{"video": [frames[0], frames[1]], "fps": 2}]}]
    assert check_media(good) is good
    with pytest.raises(InvalidRequest, match="non-empty list"):
        check_media([{"role": "user", "content": [{"video": []}]}])


@pytest.mark.parametrize("value", [None, 1, {"url": "https://example.com"}, ["https://example.com"], b"https://x"])
def test_a_media_value_that_is_not_a_string_is_refused(value: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_media([{"role": "user", "content": [{"image": value}]}])
    assert refused.value.param == "messages[0].content[0].image"


def test_openai_shaped_parts_in_a_native_body_are_checked_too() -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_media([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}])
    assert refused.value.param == "messages[0].content[0].image_url.url"
    with pytest.raises(InvalidRequest) as refused:
        check_media([{"role": "user", "content": [{"type": "video_url", "video_url": "/etc/passwd"}]}])
    assert refused.value.param == "messages[0].content[0].video_url"


def test_a_content_object_instead_of_a_list_is_checked() -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_media([{"role": "user", "content": {"image": "/etc/passwd"}}])
    assert refused.value.param == "messages[0].content.image"


def test_an_upper_case_scheme_is_accepted_and_sent_lower_case() -> None:
    # The SDK only recognises "http" in lower case: "HTTPS://..." would be tried as a local path.
    messages = [{"role": "user", "content": [{"text": "t"}, {"image": "HTTPS://Example.com/A.png"}]},
                {"role": "user", "content": [{"video": ["Http://e.com/1.jpg", "https://e.com/2.jpg"]}]},
                {"role": "user", "content": [{"audio": "DATA:audio/wav;base64,AAAA"}]}]
    checked = check_media(messages)
    assert checked[0]["content"] == [{"text": "t"}, {"image": "https://Example.com/A.png"}]
    assert checked[1]["content"][0]["video"] == ["http://e.com/1.jpg", "https://e.com/2.jpg"]
    assert checked[2]["content"][0]["audio"] == "data:audio/wav;base64,AAAA"
    assert messages[0]["content"][1]["image"] == "HTTPS://Example.com/A.png"  # the caller's list is untouched


def test_text_parts_and_string_content_are_not_media() -> None:
    # A text that happens to be a path is a legitimate text (the adapter must stop the SDK uploading it).
    messages = [{"role": "user", "content": "/etc/passwd"}, {"role": "user", "content": [{"text": "/etc/passwd"}]}]
    assert check_media(messages) is messages
    assert media_paths(messages) == []


def test_a_text_model_refuses_media_naming_the_model_and_the_part() -> None:
    messages = [{"role": "user", "content": [{"text": "hi"}]},
                {"role": "user", "content": [{"text": "see"}, {"image": "https://example.com/a.png"}]}]
    with pytest.raises(InvalidRequest) as refused:
        refuse_media_for_text_model("qwen-plus", messages)
    assert refused.value.param == "messages[1].content[1].image"
    assert "'qwen-plus'" in refused.value.message and "MULTIMODAL_MODELS" in refused.value.message
    refuse_media_for_text_model("qwen-plus", [{"role": "user", "content": [{"text": "only text"}]}])
    refuse_media_for_text_model("qwen-plus", [{"role": "user", "content": "plain"}])


def test_multimodal_messages_always_have_list_content() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"text": "hi"}, {"image": "https://example.com/a.png"}]},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c2"}]},
        {"role": "tool", "content": "12°C", "tool_call_id": "c1", "name": "weather"},
    ]
    shaped = multimodal_messages(messages)
    assert shaped[0] == {"role": "system", "content": [{"text": "be brief"}]}
    assert shaped[1] is messages[1]
    assert shaped[2] == {"role": "assistant", "content": [], "tool_calls": [{"id": "c1"}]}
    assert shaped[3]["content"] == []
    assert shaped[4] == {"role": "tool", "content": [{"text": "12°C"}], "tool_call_id": "c1", "name": "weather"}
    assert messages[0]["content"] == "be brief"
