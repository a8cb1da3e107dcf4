"""One stream in the Responses API's event sequence (`event: <type>` + `data: {...}`, each with its
`sequence_number`, counted from 0):

1. `response.created`, `response.in_progress` (the Response, `in_progress`, no output yet);
2. per output item, in the order the model produces them:
   - reasoning: `output_item.added`, `reasoning_summary_part.added`, `reasoning_summary_text.delta`…,
     `reasoning_summary_text.done`, `reasoning_summary_part.done`, `output_item.done`;
   - message: `output_item.added`, `content_part.added`, `output_text.delta`…, `output_text.done`
     (after `output_text.annotation.added` per url citation), `content_part.done`, `output_item.done`;
   - function_call: `output_item.added`, `function_call_arguments.delta`…,
     `function_call_arguments.done`, `output_item.done`;
3. `response.completed` (or `response.incomplete`, with `incomplete_details`), with the whole
   Response and its usage.

A failure once the stream has started is `response.failed` (the Response with `status: failed` and
its `error`, the output so far): never silence (web/sse.py sends it).
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator

from core.errors import ApiError
from core.openai_shapes import OpenAIDeltas, openai_error_body
from core.result_shapes import choices
from core.types import Completion
from core.web_search import citation_pattern, merged_output_field, search_sources
from handlers.responses.answer import (function_call_item, item_id, message_item, output_text, reasoning_item,
                                       response_object, responses_annotations, responses_usage, status_of)
from handlers.responses.parsing import ResponsesRequest
from web.json_output import compact_json


def sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {compact_json(data)}\n\n"


class _Item:
    """The output item being streamed: its kind, id, place and what it has gathered."""

    def __init__(self, kind: str, index: int, call: dict[str, Any] | None = None) -> None:
        self.kind, self.index = kind, index
        self.parts: list[str] = []
        self.id = item_id({"reasoning": "rs", "message": "msg", "function_call": "fc"}[kind])
        self.call = call or {}

    @property
    def text(self) -> str:
        return "".join(self.parts)


class ResponseEvents:
    """A door's StreamFormat (web/sse.py) for one Responses stream. `on_done(response)` runs with the
    final Response (to keep it, when `store` is on) before `response.completed` is sent."""

    def __init__(self, parsed: ResponsesRequest, on_done: Callable[[dict[str, Any]], None]) -> None:
        self._parsed, self._on_done = parsed, on_done
        self._sequence = itertools.count()
        self._output: list[dict[str, Any]] = []
        self._pattern = citation_pattern(parsed.call.parameters)
        self._search: Any = None

    def _event(self, kind: str, **data: Any) -> str:
        return sse(kind, {"type": kind, "sequence_number": next(self._sequence), **data})

    def _response(self, status: str, **extra: Any) -> dict[str, Any]:
        parsed = self._parsed
        return response_object(parsed.response_id, parsed.call.model, parsed.echo, status=status,
                               output=list(self._output), **{"usage": None, **extra})

    def events(self, chunks: Iterator[Completion]) -> Iterator[str]:
        yield self._event("response.created", response=self._response("in_progress"))
        yield self._event("response.in_progress", response=self._response("in_progress"))
        deltas, item, usage, reason = OpenAIDeltas(), None, {}, None
        for completion in chunks:
            usage = completion.usage or usage
            if completion.output.get("search_info") is not None:
                self._search = merged_output_field("search_info", self._search, completion.output["search_info"])
            for choice in choices({"output": completion.output})[:1]:
                delta = deltas.delta(choice)
                if delta.get("reasoning_content"):
                    if item is None or item.kind != "reasoning":
                        yield from self._close(item)
                        item = _Item("reasoning", len(self._output))
                        yield from self._open(item)
                    yield from self._add(item, delta["reasoning_content"])
                if delta.get("content"):
                    if item is None or item.kind != "message":
                        yield from self._close(item)
                        item = _Item("message", len(self._output))
                        yield from self._open(item)
                    yield from self._add(item, delta["content"])
                for fragment in delta.get("tool_calls") or []:
                    if "id" in fragment:  # a new call: its id and name come first
                        yield from self._close(item)
                        function = fragment.get("function") or {}
                        item = _Item("function_call", len(self._output),
                                     {"call_id": fragment["id"], "name": function.get("name") or ""})
                        yield from self._open(item)
                    if item is not None and item.kind == "function_call":
                        yield from self._add(item, (fragment.get("function") or {}).get("arguments") or "")
            reason = completion.finish_reason or reason
        yield from self._close(item)
        status, incomplete = status_of(reason)
        final = self._response(status, usage=responses_usage(usage), incomplete_details=incomplete)
        self._on_done(final)
        yield self._event("response.completed" if status == "completed" else "response.incomplete", response=final)

    def _open(self, item: _Item) -> Iterator[str]:
        where = {"output_index": item.index, "item_id": item.id}
        if item.kind == "reasoning":
            yield self._event("response.output_item.added", output_index=item.index,
                              item={"id": item.id, "type": "reasoning", "summary": []})
            yield self._event("response.reasoning_summary_part.added", **where, summary_index=0,
                              part={"type": "summary_text", "text": ""})
        elif item.kind == "message":
            yield self._event("response.output_item.added", output_index=item.index,
                              item={**message_item("", [], "in_progress", item.id), "content": []})
            yield self._event("response.content_part.added", **where, content_index=0, part=output_text(""))
        else:
            yield self._event("response.output_item.added", output_index=item.index,
                              item=function_call_item(item.call["call_id"], item.call["name"], "", "in_progress", item.id,
                                                     self._parsed.namespaces))

    def _add(self, item: _Item, text: str) -> Iterator[str]:
        if not text:
            return
        item.parts.append(text)
        where = {"output_index": item.index, "item_id": item.id}
        if item.kind == "reasoning":
            yield self._event("response.reasoning_summary_text.delta", **where, summary_index=0, delta=text)
        elif item.kind == "message":
            yield self._event("response.output_text.delta", **where, content_index=0, delta=text, logprobs=[])
        else:
            yield self._event("response.function_call_arguments.delta", **where, delta=text)

    def _close(self, item: _Item | None) -> Iterator[str]:
        if item is None or any(done.get("id") == item.id for done in self._output):
            return
        where = {"output_index": item.index, "item_id": item.id}
        text = item.text
        if item.kind == "reasoning":
            done = reasoning_item(text, item.id)
            yield self._event("response.reasoning_summary_text.done", **where, summary_index=0, text=text)
            yield self._event("response.reasoning_summary_part.done", **where, summary_index=0,
                              part={"type": "summary_text", "text": text})
        elif item.kind == "message":
            sources = search_sources({"search_info": self._search}) if self._search else []
            annotations = responses_annotations(text, sources, self._pattern)
            for position, annotation in enumerate(annotations):
                yield self._event("response.output_text.annotation.added", **where, content_index=0,
                                  annotation_index=position, annotation=annotation)
            yield self._event("response.output_text.done", **where, content_index=0, text=text, logprobs=[])
            yield self._event("response.content_part.done", **where, content_index=0,
                              part=output_text(text, annotations))
            done = message_item(text, annotations, "completed", item.id)
        else:
            done = function_call_item(item.call["call_id"], item.call["name"], text, "completed", item.id,
                                      self._parsed.namespaces)
            yield self._event("response.function_call_arguments.done", **where, name=item.call["name"], arguments=text)
        self._output.append(done)
        yield self._event("response.output_item.done", output_index=item.index, item=done)

    def error_event(self, error: ApiError) -> str:
        body = openai_error_body(error, "")["error"]
        failed = self._response("failed", error={"code": body.get("code") or body.get("type"), "message": body["message"]})
        return self._event("response.failed", response=failed)
