"""DashScope results -> OpenAI's Response object (`"object": "response"`).

Output items, in the order the model produced them: `reasoning` (its thinking as one `summary_text`),
`message` (one `output_text`, with `url_citation` annotations when DashScope searched), and a
`function_call` per tool call. `status` is `completed`, or `incomplete` with `incomplete_details`
(`max_output_tokens` for DashScope's `length`, `content_filter`). Usage is OpenAI's: input and
output tokens, cached input tokens (DashScope's context cache) and reasoning tokens.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from core.result_shapes import choices, content_text, finish_reason
from core.types import Completion
from core.web_search import search_sources, url_citations

INCOMPLETE_REASONS = {"length": "max_output_tokens", "content_filter": "content_filter"}


def item_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def reasoning_item(text: str, id_: str | None = None) -> dict[str, Any]:
    return {"id": id_ or item_id("rs"), "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def message_item(text: str, annotations: list[dict[str, Any]], status: str = "completed",
                 id_: str | None = None) -> dict[str, Any]:
    return {"id": id_ or item_id("msg"), "type": "message", "role": "assistant", "status": status,
            "content": [output_text(text, annotations)]}


def output_text(text: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": annotations or [], "logprobs": []}


def function_call_item(call_id: str, name: str, arguments: str, status: str = "completed",
                       id_: str | None = None, namespaces: dict[str, str] | None = None) -> dict[str, Any]:
    item = {"id": id_ or item_id("fc"), "type": "function_call", "status": status, "call_id": call_id,
            "name": name, "arguments": arguments}
    if namespaces and name in namespaces:  # a function of a `namespace` tool: the namespace is named again
        item["namespace"] = namespaces[name]
    return item


def responses_annotations(text: str, sources: list[dict[str, Any]], pattern: re.Pattern[str] | None) -> list[dict[str, Any]]:
    """core/web_search.py's url citations, flat as the Responses API writes them."""
    return [{"type": "url_citation", **found["url_citation"]} for found in url_citations(text, sources, pattern)]


def responses_usage(usage: dict[str, Any]) -> dict[str, Any]:
    input_tokens = int(usage.get("input_tokens") or 0)
    output_tokens = int(usage.get("output_tokens") or 0)
    details = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": int(details.get("cached_tokens") or 0),
                                 "cache_write_tokens": int(details.get("cache_creation_input_tokens") or 0)},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": int(reasoning or 0)},
        "total_tokens": int(usage.get("total_tokens") or input_tokens + output_tokens),
    }


def status_of(reason: str | None) -> tuple[str, dict[str, Any] | None]:
    incomplete = INCOMPLETE_REASONS.get(reason or "")
    return ("incomplete", {"reason": incomplete}) if incomplete else ("completed", None)


def output_items(completion: Completion, pattern: re.Pattern[str] | None,
                 namespaces: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """A whole answer's output items."""
    found = choices({"output": completion.output})
    if not found:  # a text-format answer (not asked for here, but a model may send one)
        return [message_item(completion.output.get("text") or "", [])]
    message = found[0].get("message") or {}
    items = []
    if isinstance(message.get("reasoning_content"), str) and message["reasoning_content"]:
        items.append(reasoning_item(message["reasoning_content"]))
    text = content_text(message.get("content"))
    calls = [call for call in message.get("tool_calls") or [] if isinstance(call, dict)]
    if text or not calls:
        sources = search_sources(completion.output)
        items.append(message_item(text, responses_annotations(text, sources, pattern)))
    for call in calls:
        function = call.get("function") or {}
        items.append(function_call_item(call.get("id") or item_id("call"), function.get("name") or "",
                                        function.get("arguments") or "", namespaces=namespaces))
    return items


def response_object(response_id: str, model: str, echo: dict[str, Any], *, status: str,
                    output: list[dict[str, Any]], usage: dict[str, Any] | None,
                    incomplete_details: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
                    created_at: int | None = None) -> dict[str, Any]:
    """The Response object: what was asked (echoed) and what came back."""
    body: dict[str, Any] = {
        "id": response_id, "object": "response", "created_at": created_at or int(time.time()), "status": status,
        "background": False, "error": error, "incomplete_details": incomplete_details, "model": model,
        "output": output, "usage": usage, **echo,
    }
    if status in ("completed", "incomplete"):
        body["completed_at"] = int(time.time())
    return body


def finish_of(completion: Completion) -> str | None:
    found = choices({"output": completion.output})
    return finish_reason(found[0]) if found else completion.finish_reason
