"""Media in messages: only URLs DashScope fetches itself may pass, never anything local.

Why: the SDK's MultiModalConversation uploads any local path it is handed (``/etc/passwd``,
``~/x``, ``file:///proc/self/environ``, a path relative to the working directory, an upper-case
``HTTPS://`` it does not recognise as a URL) to OSS with the function's key and gives the model the
file. So every ``image`` / ``video`` / ``audio`` value, in any role, must be an ``http(s)://`` URL
with a host or a ``data:`` URL, checked before any SDK call; anything else is a 400 naming the part.

``oss://`` is refused too. It is only the output of Model Studio's temporary upload, bound to the
account that uploaded it (here: the function owner's key), and using it makes the SDK send
``X-DashScope-OssResourceResolve: enable``: a caller could name files other callers had the function
upload. http(s) and data: URLs already carry every kind of media DashScope takes.

This does not cover ``{"text": "/etc/passwd"}``, which the SDK also uploads if the file exists: a
caller may legitimately send such a text, so the upstream adapter must switch off the SDK's upload
preprocessing as well (core/upstream.py).
"""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import urlsplit

from core.errors import InvalidRequest

MEDIA_KEYS = ("image", "video", "audio")
# OpenAI's part keys, which a DashScope-native body might carry too: checked the same way.
OPENAI_MEDIA_KEYS = ("image_url", "video_url")
# The scheme must open the value: no leading space, dot-slash or anything else before it.
_ALLOWED_SCHEME = re.compile(r"(?:https?://|data:)", re.IGNORECASE)
# data:<type>/<subtype>[;name=value...];base64,<base64>. Media is binary, so base64 it is; and with
# no "." in the payload and one "/" in the type, such a value can never read as a path with "..".
_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]*"
_DATA_URL = re.compile(rf"data:{_TOKEN}/{_TOKEN}(;{_TOKEN}={_TOKEN})*;base64,[a-z0-9+/_-]+={{0,2}}", re.IGNORECASE)
_SHOWN_CHARS = 60


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…")


def _unsafe(path: str, value: str, why: str) -> InvalidRequest:
    return InvalidRequest(
        f"`{path}` must be an http(s):// or data: URL ({why}; got {_shown(value)}): this function "
        "passes media to DashScope only as URLs, never local files, paths or other schemes",
        param=path,
    )


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # such as an unclosed IPv6 bracket
        return None


def safe_media_url(value: Any, path: str) -> str:
    """The URL to send for one media value (its scheme lower-cased), or InvalidRequest naming `path`."""
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"`{path}` must be a non-empty URL string", param=path)
    scheme = _ALLOWED_SCHEME.match(value)
    if scheme is None:
        raise _unsafe(path, value, "it does not start with one of those schemes")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
        raise _unsafe(path, value, "it contains whitespace or control characters")
    prefix = scheme.group(0).lower()
    url = prefix + value[len(prefix):]
    if prefix == "data:":
        if not _DATA_URL.fullmatch(url):
            raise _unsafe(path, value, "a data: URL must be `data:<type>/<subtype>;base64,<base64 data>`")
    elif not _host(url):
        raise _unsafe(path, value, "it has no host")
    return url


def _parts(messages: Any) -> Iterator[tuple[int, int | None, dict[str, Any], str]]:
    """(message index, index in its content or None, part, the part's path) for every part."""
    if not isinstance(messages, list):
        return
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        path = f"messages[{index}].content"
        if isinstance(content, dict):
            yield index, None, content, path
        elif isinstance(content, list):
            for position, part in enumerate(content):
                if isinstance(part, dict):
                    yield index, position, part, f"{path}[{position}]"


def _checked_part(part: dict[str, Any], path: str) -> dict[str, Any]:
    """The part with every media URL checked; the same object when nothing needed rewriting."""
    changed: dict[str, Any] = {}
    for key in MEDIA_KEYS:
        if key not in part:
            continue
        value = part[key]
        if key == "video" and isinstance(value, list):  # a video as a list of frame images
            if not value:
                raise InvalidRequest(
                    f"`{path}.video` must be a URL or a non-empty list of frame URLs", param=f"{path}.video"
                )
            urls = [safe_media_url(frame, f"{path}.video[{n}]") for n, frame in enumerate(value)]
        else:
            urls = safe_media_url(value, f"{path}.{key}")
        if urls != value:
            changed[key] = urls
    for key in OPENAI_MEDIA_KEYS:
        if key not in part:
            continue
        value = part[key]
        if isinstance(value, dict):
            url = safe_media_url(value.get("url"), f"{path}.{key}.url")
            if url != value.get("url"):
                changed[key] = {**value, "url": url}
        else:
            url = safe_media_url(value, f"{path}.{key}")
            if url != value:
                changed[key] = url
    return {**part, **changed} if changed else part


def check_media(messages: Any) -> Any:
    """Refuse any media value that is not an http(s):// or data: URL, in any role's content.

    Returns the messages to send: the same list when nothing changed, else a copy in which
    upper-case schemes (``HTTPS://``) are lower-cased (the SDK's URL test is case-sensitive).
    Non-list messages and non-dict parts are left to the message validators.
    """
    replaced: dict[tuple[int, int | None], dict[str, Any]] = {}
    for index, position, part, path in _parts(messages):
        checked = _checked_part(part, path)
        if checked is not part:
            replaced[(index, position)] = checked
    if not replaced:
        return messages
    copied = [dict(message) if isinstance(message, dict) else message for message in messages]
    for (index, position), part in replaced.items():
        if position is None:
            copied[index]["content"] = part
        else:
            content = list(copied[index]["content"])
            content[position] = part
            copied[index]["content"] = content
    return copied


def media_paths(messages: Any) -> list[str]:
    """Where the messages carry media, as `messages[i].content[j].image` paths."""
    found = []
    for _index, _position, part, path in _parts(messages):
        found.extend(f"{path}.{key}" for key in (*MEDIA_KEYS, *OPENAI_MEDIA_KEYS, "input_audio") if key in part)
    return found


def refuse_media_for_text_model(model: str, messages: Any) -> None:
    """A model on DashScope's text endpoint takes no media: a 400 naming the model and the part."""
    paths = media_paths(messages)
    if paths:
        raise InvalidRequest(
            f"`{paths[0]}`: model {model!r} is served on DashScope's text endpoint and takes no image, video or "
            "audio; use a vision model (such as qwen3-vl-plus or qwen3.5-plus), or, if DashScope serves "
            f"{model!r} on its multimodal endpoint, add it to this function's MULTIMODAL_MODELS setting",
            param=paths[0],
        )


def multimodal_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages in the multimodal endpoint's documented form: content is always a list of parts.

    A string becomes ``[{"text": s}]``, an empty string or None (an assistant turn that only
    calls tools) ``[]``; lists pass as they are. Other message fields are kept.
    """
    shaped = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(message, dict) and (content is None or isinstance(content, str)):
            message = {**message, "content": [{"text": content}] if content else []}
        shaped.append(message)
    return shaped
