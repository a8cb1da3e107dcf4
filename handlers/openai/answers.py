"""DashScope results and stream chunks -> OpenAI's `chat.completion` and `chat.completion.chunk`, for
the /v1 door. The per-choice shapes (reasoning, tool-call fragments, logprobs, usage with reasoning
tokens) are in core/result_shapes.py; this module makes the envelopes and the order of a stream."""

from __future__ import annotations

import re
import time
from typing import Any, Iterator

from core.openai_shapes import OpenAIDeltas, openai_choices, openai_usage
from core.result_shapes import choices, total_usage
from core.types import Completion
from core.web_search import merged_output_field, search_sources, url_citations



def _result(completion: Completion) -> dict[str, Any]:
    return {"request_id": completion.request_id, "output": completion.output, "usage": completion.usage}


def chat_completion(completion: Completion, model: str, citations: re.Pattern[str] | None = None) -> dict[str, Any]:
    """One answer: every choice (`n`), each with its content as a string (a multimodal answer's
    text parts joined), `reasoning_content` when the model thought, tool calls and logprobs. When
    DashScope sent web-search sources, each message has `annotations`: a `url_citation` per marker
    (`citations`, core/web_search.py) in its content."""
    shaped = openai_choices(_result(completion))
    if not shaped:  # a text-format answer (it should not happen here, but a model may send one)
        message = {"role": "assistant", "content": completion.output.get("text")}
        shaped = [{"index": 0, "message": message, "finish_reason": completion.finish_reason, "logprobs": None}]
    sources = search_sources(completion.output)
    if sources:
        for choice in shaped:
            choice["message"]["annotations"] = url_citations(choice["message"]["content"] or "", sources, citations)
    body: dict[str, Any] = {
        "id": f"chatcmpl-{completion.request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": shaped,
        "usage": openai_usage(completion.usage),
        "system_fingerprint": None,
    }
    if completion.output.get("search_info"):  # all of DashScope's sources, the uncited too: an extra field
        body["search_info"] = completion.output["search_info"]
    return body


def chat_chunks(
    upstream: Iterator[Completion], model: str, include_usage: bool, citations: re.Pattern[str] | None = None
) -> Iterator[dict[str, Any]]:
    """DashScope's incremental chunks -> OpenAI chunks: the role first (as soon as DashScope sends
    anything, so a thinking model's stream is never silent), then reasoning, content or tool-call
    deltas as they come, a chunk with each choice's finish_reason, and a usage-only chunk when asked.
    When DashScope sent web-search sources, the chunk before a choice's finish_reason carries its
    `delta.annotations` (indices in its whole content, known only then) and the top-level `search_info`."""
    created = int(time.time())
    header: dict[str, Any] = {}
    deltas = OpenAIDeltas()
    started: set[int] = set()
    usage_by_choice: dict[int, dict[str, Any]] = {}
    usage: dict[str, Any] = {}
    search = _StreamSources(citations)

    def chunk(shaped: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {**header, "object": "chat.completion.chunk", "created": created, "model": model, "choices": shaped, **extra}

    for position, completion in enumerate(upstream):
        if position == 0:
            header["id"] = f"chatcmpl-{completion.request_id}"
            yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            started.add(0)
        search.add(completion.output)
        in_chunk = choices(_result(completion))  # once a chunk: the deltas and the usage below read it
        found = deltas.chunk_choices(in_chunk)
        if not found:  # a text-format chunk (it should not happen here, but a model may send one)
            text = completion.output.get("text")
            found = [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": completion.finish_reason}]
        for choice in found:
            index, delta = choice["index"], choice["delta"]
            if index not in started:  # another of `n` choices, first seen now
                started.add(index)
                delta = {"role": "assistant", **delta}
            if delta or choice.get("logprobs"):
                entry = {"index": index, "delta": delta, "finish_reason": None}
                if choice.get("logprobs"):
                    entry["logprobs"] = choice["logprobs"]
                yield chunk([entry])
            search.add_text(index, delta.get("content"))
            if choice["finish_reason"] is not None:
                if search.sources:
                    cited = {"index": index, "delta": {"annotations": search.annotations(index)}, "finish_reason": None}
                    yield chunk([cited], search_info=search.info)
                yield chunk([{"index": index, "delta": {}, "finish_reason": choice["finish_reason"]}])
        if completion.usage:
            usage = completion.usage
            usage_by_choice[in_chunk[0].get("index", 0) if in_chunk else 0] = usage
    if include_usage:
        yield chunk([], usage=openai_usage(total_usage(usage_by_choice, usage)))


class _StreamSources:
    """A stream's web-search sources (DashScope sends them once, on an early event) and each choice's
    content so far, to place the citation markers when the choice ends."""

    def __init__(self, citations: re.Pattern[str] | None) -> None:
        self._citations = citations
        self.info: dict[str, Any] | None = None
        self.sources: list[dict[str, Any]] = []
        self._text: dict[int, list[str]] = {}

    def add(self, output: dict[str, Any]) -> None:
        if output.get("search_info") is not None:
            self.info = merged_output_field("search_info", self.info, output["search_info"])
            self.sources = search_sources({"search_info": self.info})

    def add_text(self, index: int, text: Any) -> None:
        if isinstance(text, str) and text:
            self._text.setdefault(index, []).append(text)

    def annotations(self, index: int) -> list[dict[str, Any]]:
        return url_citations("".join(self._text.get(index, [])), self.sources, self._citations)
