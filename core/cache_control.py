"""DashScope's explicit context cache: the `cache_control` markers a request's content parts carry.

Model Studio's "Context Cache" page (help.aliyun.com/zh/model-studio/context-cache; docs/models.md
has the dates): a content part marked `"cache_control": {"type": "ephemeral"}` asks DashScope to
cache the messages from the start up to that part (at least 1,024 tokens, 5 minutes, renewed on a
hit), on the OpenAI-compatible and the DashScope APIs alike. At most 4 markers per request.

Every door checks the markers here (through `core.parameters.validate_messages`) and then passes
them on as they came, on the part that carried them. What is refused, with a 400 naming the marker:
a marker whose `type` is not "ephemeral" (the only kind DashScope documents), and a fifth marker
(DashScope's documented limit; refused here rather than sent, so nobody pays for a call whose
caching DashScope would not do as asked).
"""

from __future__ import annotations

from typing import Any

from core.errors import InvalidRequest

MAX_MARKERS = 4
MARKER_TYPE = "ephemeral"


def has_marker(content: Any) -> bool:
    """Whether a message's content (a list of parts) carries a `cache_control` marker."""
    return isinstance(content, list) and any(isinstance(part, dict) and "cache_control" in part for part in content)


def check_markers(messages: list[Any]) -> None:
    """Refuse a malformed marker, or more than MAX_MARKERS, naming it (`messages[i].content[j].cache_control`)."""
    count = 0
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue  # the common case: string content carries no marker
        for position, part in enumerate(content):
            if not isinstance(part, dict) or "cache_control" not in part:
                continue
            path = f"messages[{index}].content[{position}].cache_control"
            marker = part["cache_control"]
            if not isinstance(marker, dict) or marker.get("type") != MARKER_TYPE:
                raise InvalidRequest(
                    f"invalid `{path}`: DashScope's context cache takes {{\"type\": \"{MARKER_TYPE}\"}}", param=path
                )
            count += 1
            if count > MAX_MARKERS:
                raise InvalidRequest(
                    f"`{path}`: a request may carry at most {MAX_MARKERS} cache_control markers "
                    "(DashScope's context cache); this is one more",
                    param=path,
                )
