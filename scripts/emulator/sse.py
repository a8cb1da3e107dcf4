"""Server-sent events as the two APIs frame them."""

from __future__ import annotations

import json
from typing import Any


def dashscope_event(event_id: int, event: str, status: int, data: dict[str, Any]) -> bytes:
    """DashScope's native framing: ``id:``, ``event:``, ``:HTTP_STATUS/<n>``, ``data:``."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id:{event_id}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{payload}\n\n".encode()


def openai_event(data: dict[str, Any] | str) -> bytes:
    """The OpenAI-compatible framing: ``data:`` lines only, ending with ``data: [DONE]``."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


DONE = openai_event("[DONE]")
