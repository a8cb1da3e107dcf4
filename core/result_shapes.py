"""DashScope results and stream chunks, as plain dicts ``{"request_id", "output", "usage"}``: their
text whatever the content shape, and one result assembled from a stream. (The OpenAI shapes /v1
makes of them: core/openai_shapes.py.)

Shapes (docs/models.md has the captures they come from): a choice is ``{"index"?, "message":
{"role", "content", "reasoning_content"?, "tool_calls"?}, "finish_reason", "logprobs"?}``. Content
is a string on the text endpoint and a list of ``{"text"}`` parts on the multimodal one (``[]``
while the model thinks). A chunk that is not the last has ``finish_reason: "null"`` (a string).
Streams are incremental (``incremental_output: true``): each chunk carries only what is new,
except usage, which is a running total.
"""

from __future__ import annotations

from typing import Any, Iterable

from core.web_search import merged_output_field

_NOT_FINISHED = (None, "", "null")


def content_text(content: Any) -> str:
    """A message's content as text: a string as it is, the text of a list of parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str))
    return ""


def choices(result: dict[str, Any]) -> list[dict[str, Any]]:
    found = (result.get("output") or {}).get("choices")
    return [choice for choice in found if isinstance(choice, dict)] if isinstance(found, list) else []


def finish_reason(choice: dict[str, Any]) -> str | None:
    reason = choice.get("finish_reason")
    return None if reason in _NOT_FINISHED else reason


def chunk_text(chunk: dict[str, Any]) -> str:
    """The answer text a result or chunk carries (first choice, or the legacy `output.text`)."""
    found = choices(chunk)
    if found:
        return content_text((found[0].get("message") or {}).get("content"))
    text = (chunk.get("output") or {}).get("text")
    return text if isinstance(text, str) else ""


def chunk_reasoning(chunk: dict[str, Any]) -> str:
    found = choices(chunk)
    reasoning = (found[0].get("message") or {}).get("reasoning_content") if found else None
    return reasoning if isinstance(reasoning, str) else ""


class _Choice:
    """One choice of a stream, accumulated."""

    def __init__(self) -> None:
        self.role = "assistant"
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.list_content = False
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.arguments: dict[int, list[str]] = {}
        self.logprobs: list[Any] | None = None
        self.finish_reason: str | None = None
        self.indexed = False
        self.usage: dict[str, Any] | None = None

    def add(self, choice: dict[str, Any]) -> None:
        message = choice.get("message") or {}
        self.role = message.get("role") or self.role
        content = message.get("content")
        self.list_content = self.list_content or isinstance(content, list)
        self.text.append(content_text(content))
        if isinstance(message.get("reasoning_content"), str):
            self.reasoning.append(message["reasoning_content"])
        for position, fragment in enumerate(message.get("tool_calls") or []):
            if isinstance(fragment, dict):
                self._add_tool_fragment(fragment, position)
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
            # Extended in place: a new list per chunk would copy every entry so far (quadratic CPU).
            if self.logprobs is None:
                self.logprobs = []
            self.logprobs.extend(logprobs["content"])
        self.finish_reason = finish_reason(choice) or self.finish_reason
        self.indexed = self.indexed or "index" in choice

    def _add_tool_fragment(self, fragment: dict[str, Any], position: int) -> None:
        index = fragment.get("index", position)
        call = self.tool_calls.setdefault(index, {"index": index, "id": "", "type": "function", "function": {}})
        call["id"] = call["id"] or fragment.get("id") or ""
        call["type"] = fragment.get("type") or call["type"]
        function, merged = fragment.get("function") or {}, call["function"]
        # DashScope sends the name whole on a call's first fragment, later ones carry none (or "").
        if function.get("name") and not merged.get("name"):
            merged["name"] = function["name"]
        # Fragments kept in a list and joined once (`result`): concatenating each would be quadratic.
        self.arguments.setdefault(index, []).append(function.get("arguments") or "")

    def result(self, index: int) -> dict[str, Any]:
        text = "".join(self.text)
        content: Any = ([{"text": text}] if text else []) if self.list_content else text
        message: dict[str, Any] = {"role": self.role, "content": content}
        if self.reasoning:
            message["reasoning_content"] = "".join(self.reasoning)
        if self.tool_calls:
            for key, fragments in self.arguments.items():
                self.tool_calls[key]["function"]["arguments"] = "".join(fragments)
            message["tool_calls"] = [self.tool_calls[key] for key in sorted(self.tool_calls)]
        choice: dict[str, Any] = {"index": index} if self.indexed else {}
        choice.update({"finish_reason": self.finish_reason, "message": message})
        if self.logprobs is not None:
            choice["logprobs"] = {"content": self.logprobs}
        return choice


def total_usage(by_choice: dict[int, dict[str, Any]], last: dict[str, Any]) -> dict[str, Any]:
    """One choice: the last chunk's usage (a running total). Several (`n` > 1, each packet carrying
    its own choice's usage): output tokens summed, input counted once, as the SDK does."""
    if len(by_choice) <= 1:
        return last
    usages = list(by_choice.values())
    total = dict(usages[0])
    total["output_tokens"] = sum(int(usage.get("output_tokens") or 0) for usage in usages)
    total["total_tokens"] = int(total.get("input_tokens") or 0) + total["output_tokens"]
    reasoning = [(usage.get("output_tokens_details") or {}).get("reasoning_tokens") for usage in usages]
    if any(tokens is not None for tokens in reasoning):
        details = dict(total.get("output_tokens_details") or {})
        details["reasoning_tokens"] = sum(int(tokens or 0) for tokens in reasoning)
        total["output_tokens_details"] = details
    return total


def assemble(chunks: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """An incremental stream -> the one result DashScope gives for a non-streamed call.

    Content, reasoning and logprobs are concatenated per choice; tool calls merged by `index` (id,
    type and name from the first fragment, arguments concatenated); finish_reason is the last real
    one (None if the stream never finished: the caller decides that is an error); usage is the last
    chunk's. Other output fields (model_name, ...) keep their last non-null value; search_info keeps
    the sources an early event carried (core/web_search.py).
    """
    request_id, usage, extra = "", {}, {}
    by_index: dict[int, _Choice] = {}
    usage_by_choice: dict[int, dict[str, Any]] = {}
    legacy_text: list[str] | None = None
    legacy_finish: str | None = None
    for chunk in chunks:
        request_id = chunk.get("request_id") or request_id
        output = chunk.get("output") or {}
        found = choices(chunk)
        for position, choice in enumerate(found):
            index = choice.get("index", position)
            by_index.setdefault(index, _Choice()).add(choice)
        if chunk.get("usage"):
            usage = chunk["usage"]
            if found:
                usage_by_choice[found[0].get("index", 0)] = usage
        if not found and isinstance(output.get("text"), str):  # result_format "text"
            legacy_text = legacy_text if legacy_text is not None else []
            legacy_text.append(output["text"])
        legacy_finish = finish_reason(output) or legacy_finish
        for key, value in output.items():
            if key not in ("choices", "text", "finish_reason") and value is not None:
                extra[key] = merged_output_field(key, extra.get(key), value)  # search_info: its sources kept
    assembled: dict[str, Any] = dict(extra)
    if by_index:
        assembled["choices"] = [by_index[index].result(index) for index in sorted(by_index)]
    elif legacy_text is not None:
        assembled.update(text="".join(legacy_text), finish_reason=legacy_finish)
    return {"request_id": request_id, "output": assembled, "usage": total_usage(usage_by_choice, usage)}


def assembled_finish_reason(result: dict[str, Any]) -> str | None:
    found = choices(result)
    return finish_reason(found[0]) if found else finish_reason(result.get("output") or {})
