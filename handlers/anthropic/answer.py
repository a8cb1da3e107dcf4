"""DashScope's answer -> Anthropic's `message`: content blocks (thinking, text, tool_use), stop_reason
and usage with the cache's tokens. Pure; the stream's events are events.py's."""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.result_shapes import choices, content_text, finish_reason
from core.types import Completion

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def message_id(request_id: str) -> str:
    return f"msg_{request_id.replace('-', '')}" if request_id else "msg_qwenfc"


def tool_use_id(call_id: str) -> str:
    """A tool call's id as Anthropic's clients expect it (`toolu_…`); it comes back as is in a
    tool_result, and DashScope takes any id."""
    if not call_id:
        return f"toolu_{uuid.uuid4().hex[:24]}"
    return call_id if call_id.startswith("toolu_") else f"toolu_{call_id.removeprefix('call_')}"


def signature(request_id: str) -> str:
    """A thinking block's signature: Anthropic's clients keep and send it back; DashScope has none, and
    this door drops thinking sent back, so it only has to be present."""
    return f"qwenfc.{request_id}"


def stop_reason(reason: str | None) -> str | None:
    # DashScope says "stop" for a stop sequence as for a natural end, and strips the sequence: end_turn.
    return None if reason is None else STOP_REASONS.get(reason, "end_turn")


def anthropic_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """DashScope's usage -> Anthropic's: `input_tokens` are the ones neither read from nor written to
    the cache (Anthropic counts the three apart; DashScope's `input_tokens` is their sum)."""
    details = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    read = int(details.get("cached_tokens") or 0)
    created = int(details.get("cache_creation_input_tokens") or 0)
    return {
        "input_tokens": max(int(usage.get("input_tokens") or 0) - read - created, 0),
        "output_tokens": int(usage.get("output_tokens") or 0),
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": read,
    }


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {"arguments": text}  # the model wrote what is not JSON: kept, never dropped
    return value if isinstance(value, dict) else {"value": value}


def message(completion: Completion, model: str) -> dict[str, Any]:
    """One answer as Anthropic's `message` object."""
    found = choices({"output": completion.output})
    answer = (found[0].get("message") or {}) if found else {}
    content: list[dict[str, Any]] = []
    if isinstance(answer.get("reasoning_content"), str) and answer["reasoning_content"]:
        content.append({"type": "thinking", "thinking": answer["reasoning_content"],
                        "signature": signature(completion.request_id)})
    text = content_text(answer.get("content")) if found else (completion.output.get("text") or "")
    if text:
        content.append({"type": "text", "text": text})
    for call in answer.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append({"type": "tool_use", "id": tool_use_id(call.get("id") or ""), "name": function.get("name", ""),
                        "input": _arguments(function.get("arguments") or "")})
    reason = finish_reason(found[0]) if found else completion.finish_reason
    return {
        "id": message_id(completion.request_id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(reason),
        "stop_sequence": None,
        "usage": anthropic_usage(completion.usage),
    }
