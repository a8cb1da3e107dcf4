"""One stream as Anthropic's server-sent events:

    message_start, ping,
    (content_block_start, content_block_delta*, content_block_stop)* per block: thinking
        (thinking_delta…, then signature_delta), text (text_delta…), tool_use (input_json_delta…),
    message_delta (stop_reason, usage), message_stop.

A failure once the stream has started is an `error` event with Anthropic's error body (web/sse.py
calls `error_event`), never silence and never a message_stop.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from core.errors import ApiError
from core.result_shapes import choices, content_text, finish_reason
from core.types import Completion
from handlers.anthropic.answer import anthropic_usage, message_id, signature, stop_reason, tool_use_id
from web.json_output import compact_json


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {compact_json(data)}\n\n"


class _Blocks:
    """The content blocks of one stream: which one is open, and the events that open and close them."""

    def __init__(self, request_id: Callable[[], str]) -> None:
        self.index = -1
        self.open: tuple[str, int] | None = None  # (kind, tool-call index or 0)
        self._request_id = request_id

    def switch(self, kind: str, key: int, start: dict[str, Any]) -> Iterator[str]:
        if self.open == (kind, key):
            return
        yield from self.close()
        self.index += 1
        self.open = (kind, key)
        yield sse("content_block_start", {"type": "content_block_start", "index": self.index, "content_block": start})

    def delta(self, delta: dict[str, Any]) -> str:
        return sse("content_block_delta", {"type": "content_block_delta", "index": self.index, "delta": delta})

    def close(self) -> Iterator[str]:
        if self.open is None:
            return
        if self.open[0] == "thinking":
            yield self.delta({"type": "signature_delta", "signature": signature(self._request_id())})
        yield sse("content_block_stop", {"type": "content_block_stop", "index": self.index})
        self.open = None


class AnthropicEvents:
    def __init__(self, model: str, error_body: Callable[[ApiError], dict[str, Any]]) -> None:
        self._model, self._error_body = model, error_body
        self._request_id = ""

    def events(self, chunks: Iterator[Completion]) -> Iterator[str]:
        blocks = _Blocks(lambda: self._request_id)
        usage: dict[str, Any] = {}
        reason: str | None = None
        for position, chunk in enumerate(chunks):
            usage = chunk.usage or usage
            if position == 0:
                self._request_id = chunk.request_id
                start = {"id": message_id(chunk.request_id), "type": "message", "role": "assistant",
                         "model": self._model, "content": [], "stop_reason": None, "stop_sequence": None,
                         "usage": {**anthropic_usage(usage), "output_tokens": 0}}
                yield sse("message_start", {"type": "message_start", "message": start})
                yield sse("ping", {"type": "ping"})
            found = choices({"output": chunk.output})
            if not found:
                continue
            answer = found[0].get("message") or {}
            reasoning = answer.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                yield from blocks.switch("thinking", 0, {"type": "thinking", "thinking": "", "signature": ""})
                yield blocks.delta({"type": "thinking_delta", "thinking": reasoning})
            text = content_text(answer.get("content"))
            if text:
                yield from blocks.switch("text", 0, {"type": "text", "text": ""})
                yield blocks.delta({"type": "text_delta", "text": text})
            for place, fragment in enumerate(answer.get("tool_calls") or []):
                if not isinstance(fragment, dict):
                    continue
                function = fragment.get("function") or {}
                if blocks.open != ("tool_use", fragment.get("index", place)):
                    start = {"type": "tool_use", "id": tool_use_id(fragment.get("id") or ""),
                             "name": function.get("name") or "", "input": {}}
                    yield from blocks.switch("tool_use", fragment.get("index", place), start)
                if function.get("arguments"):
                    yield blocks.delta({"type": "input_json_delta", "partial_json": function["arguments"]})
            reason = finish_reason(found[0]) or reason
        yield from blocks.close()
        delta = {"type": "message_delta", "delta": {"stop_reason": stop_reason(reason or "stop"), "stop_sequence": None},
                 "usage": anthropic_usage(usage)}
        yield sse("message_delta", delta)
        yield sse("message_stop", {"type": "message_stop"})

    def error_event(self, error: ApiError) -> str:
        return sse("error", self._error_body(error))
