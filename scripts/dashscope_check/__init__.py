"""The checks scripts/check-dashscope runs: against DashScope itself with the owner's key (direct.py),
or through a deployed function's doors (function.py). Each check is a name and a callable that returns
what DashScope said when it worked, and raises `CheckFailed` (or anything) with what it said when not.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass
from typing import Any, Callable

from core.errors import ApiError, UpstreamKeyRefused

# Short on purpose: each check costs a few tokens.
PROMPT = "Reply with the single word OK."
VISION_PROMPT = "What colour is this image? Answer in one word."
THINKING_PROMPT = "Is 9.11 larger than 9.9? Answer yes or no."
EMBEDDED_TEXT = "hello from check-dashscope"
TOKENIZED_TEXT = "hello world"
MAX_TOKENS = 16
THINKING_BUDGET = 64


class CheckFailed(Exception):
    """A check got an answer, but not the one it needed (or an error): the message says what came."""


@dataclass(frozen=True)
class Models:
    text: str = "qwen-plus"
    thinking: str = "qwen3.6-flash"
    vision: str = "qwen3.6-plus"
    embedding: str = "text-embedding-v4"
    tokenizer: str = "qwen-plus"


Check = tuple[str, Callable[[], str]]


def said(error: BaseException) -> str:
    """A failure as DashScope (or the function) said it, one line: its status, code and message."""
    if isinstance(error, UpstreamKeyRefused):
        return "401 InvalidApiKey: DashScope refused DASHSCOPE_API_KEY (wrong key, or a key of another region)"
    if isinstance(error, ApiError):
        return f"{error.status} {error.code}: {error.message}"
    text = str(error) if isinstance(error, CheckFailed) else f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:299] + "…"


def red_square_png(side: int = 64) -> str:
    """A plain red PNG as a data: URL, made here: no file, no network (DashScope needs more than 10 px a side)."""
    row = b"\x00" + bytes((220, 30, 30)) * side

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(row * side)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def quoted(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def content_text(content: Any) -> str:
    """Text of a message's content: a string, or parts with `text`."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def answered(text: str, *, request_id: str | None, tokens: Any) -> str:
    """What DashScope said, on one line; an empty answer is a failure."""
    if not text.strip():
        raise CheckFailed(f"an empty answer (request id {request_id or '-'})")
    details = ", ".join(part for part in (f"{tokens} tokens" if tokens else "", f"request id {request_id}" if request_id else "") if part)
    return f"{quoted(text)}" + (f" ({details})" if details else "")
