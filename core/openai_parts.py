"""OpenAI content parts -> DashScope's, for the /v1 door.

A multimodal model gets DashScope's native parts (what its compatible mode and SDK 2.0 translate
to as well): ``text`` -> ``{"text"}``, ``image_url`` -> ``{"image"}``, ``input_audio`` ->
``{"audio"}``, ``video_url`` and ``video`` (a list of frames) -> ``{"video"}``. ``image_url.detail``
has no DashScope equivalent and is dropped (DashScope's own compatible mode drops it too); pixel
and frame-rate hints (``min_pixels``, ``max_pixels``, ``fps``, ``total_pixels``) and
``cache_control`` are part-level siblings on both wires and pass through. Every media URL is checked
here (core/media.py), so a refusal names OpenAI's field (``messages[1].content[0].image_url.url``).

A text model gets a string, as before: its text parts joined by newlines; any other part is a 400
naming the model. A message one of whose parts carries a context-cache marker (`cache_control`,
core/cache_control.py) keeps its parts instead, each as it came: the marker must reach DashScope on
the part that carried it, and DashScope's text endpoint takes text parts.
"""

from __future__ import annotations

import re
from typing import Any

from core.cache_control import has_marker
from core.errors import InvalidRequest
from core.media import safe_media_url

_IMAGE_HINTS = ("min_pixels", "max_pixels")
_VIDEO_HINTS = ("fps", "min_pixels", "max_pixels", "total_pixels")
_ANY_PART_HINTS = ("cache_control",)
# An audio format is a short name (mp3, wav, ...) that goes into a data: URL's media type.
_AUDIO_FORMAT = re.compile(r"[a-z0-9][a-z0-9.+-]{0,15}")


def _with_hints(source: dict[str, Any], part: dict[str, Any], hints: tuple[str, ...]) -> dict[str, Any]:
    for key in (*hints, *_ANY_PART_HINTS):
        if source.get(key) is not None:
            part[key] = source[key]
    return part


def _url_field(part: dict[str, Any], key: str, path: str) -> str:
    """`image_url` / `video_url` as OpenAI sends it ({"url": ...}), or as a bare string."""
    value = part.get(key)
    if isinstance(value, dict):
        return safe_media_url(value.get("url"), f"{path}.{key}.url")
    return safe_media_url(value, f"{path}.{key}")


def _audio(part: dict[str, Any], path: str) -> str:
    audio = part.get("input_audio")
    if not isinstance(audio, dict):
        raise InvalidRequest(
            f"`{path}.input_audio` must be {{\"data\": ..., \"format\": ...}}", param=f"{path}.input_audio"
        )
    data, audio_format = audio.get("data"), audio.get("format")
    if isinstance(data, str) and re.match(r"(?i)(https?://|data:)", data):
        return safe_media_url(data, f"{path}.input_audio.data")  # a URL, as DashScope's compatible mode allows
    if not isinstance(data, str) or not data:
        raise InvalidRequest(
            f"`{path}.input_audio.data` must be base64 audio or a URL", param=f"{path}.input_audio.data"
        )
    if not isinstance(audio_format, str) or not _AUDIO_FORMAT.fullmatch(audio_format):
        raise InvalidRequest(
            f"`{path}.input_audio.format` must name the audio format (such as \"mp3\" or \"wav\")",
            param=f"{path}.input_audio.format",
        )
    return safe_media_url(f"data:audio/{audio_format};base64,{data}", f"{path}.input_audio.data")


def _video_frames(part: dict[str, Any], path: str) -> list[str]:
    frames = part.get("video")
    if not isinstance(frames, list) or not frames:
        raise InvalidRequest(f"`{path}.video` must be a non-empty list of frame image URLs", param=f"{path}.video")
    return [safe_media_url(frame, f"{path}.video[{n}]") for n, frame in enumerate(frames)]


def dashscope_part(part: Any, path: str) -> dict[str, Any]:
    """One OpenAI content part -> DashScope's native part for the multimodal endpoint."""
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise InvalidRequest(f"`{path}.text` must be a string", param=f"{path}.text")
        return _with_hints(part, {"text": part["text"]}, ())
    if kind == "image_url":
        return _with_hints(part, {"image": _url_field(part, "image_url", path)}, _IMAGE_HINTS)
    if kind == "input_audio":
        return _with_hints(part, {"audio": _audio(part, path)}, ())
    if kind == "video_url":
        return _with_hints(part, {"video": _url_field(part, "video_url", path)}, _VIDEO_HINTS)
    if kind == "video":
        return _with_hints(part, {"video": _video_frames(part, path)}, _VIDEO_HINTS)
    raise InvalidRequest(
        f"`{path}`: content part type {kind!r} is not supported; use text, image_url, input_audio, "
        "video_url or video (a list of frame URLs)",
        param=path,
    )


def dashscope_content(content: Any, path: str, model: str, multimodal: bool) -> Any:
    """A message's OpenAI `content` -> what DashScope takes for `model`.

    Strings (and None) pass as they are. A list becomes native parts for a multimodal model, or,
    for a text model, its text parts joined by newlines (a media part is then a 400 naming the model),
    or its text parts as they are when one carries a `cache_control` marker.
    """
    if not isinstance(content, list):
        return content
    if multimodal:
        return [dashscope_part(part, f"{path}[{index}]") for index, part in enumerate(content)]
    texts = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise InvalidRequest(
                f"`{path}[{index}]`: model {model!r} is served on DashScope's text endpoint and takes only "
                f"text parts (got type {kind!r}); use a vision model (such as qwen3-vl-plus or qwen3.5-plus), "
                f"or, if DashScope serves {model!r} on its multimodal endpoint, add it to MULTIMODAL_MODELS",
                param=f"{path}[{index}]",
            )
        texts.append(part["text"])
    return list(content) if has_marker(content) else "\n".join(texts)
