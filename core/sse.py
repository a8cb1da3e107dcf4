"""Server-sent events in DashScope's own wire format (id / event / :HTTP_STATUS / data)."""

from __future__ import annotations

import json
from typing import Any


def sse_event(event_id: int, event: str, data: dict[str, Any], status: int = 200) -> str:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id:{event_id}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{payload}\n\n"
