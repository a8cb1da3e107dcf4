"""DashScope results and stream chunks -> OpenAI's `chat.completion` and `chat.completion.chunk`, for
the /v1 door. The per-choice shapes (reasoning, tool-call fragments, logprobs, usage with reasoning
tokens) are in core/result_shapes.py; this module makes the envelopes and the order of a stream."""

from __future__ import annotations

import time
from typing import Any, Iterator

from core.result_shapes import OpenAIDeltas, choices, openai_choices, openai_usage, total_usage
from core.types import Completion


def _result(completion: Completion) -> dict[str, Any]:
    return {"request_id": completion.request_id, "output": completion.output, "usage": completion.usage}


def chat_completion(completion: Completion, model: str) -> dict[str, Any]:
    """One answer: every choice (`n`), each with its content as a string (a multimodal answer's
    text parts joined), `reasoning_content` when the model thought, tool calls and logprobs."""
    shaped = openai_choices(_result(completion))
    if not shaped:  # a text-format answer (it should not happen here, but a model may send one)
        message = {"role": "assistant", "content": completion.output.get("text")}
        shaped = [{"index": 0, "message": message, "finish_reason": completion.finish_reason, "logprobs": None}]
    body: dict[str, Any] = {
        "id": f"chatcmpl-{completion.request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": shaped,
        "usage": openai_usage(completion.usage),
        "system_fingerprint": None,
    }
    if completion.output.get("search_info"):  # enable_search's sources: an extra field clients ignore
        body["search_info"] = completion.output["search_info"]
    return body


def chat_chunks(upstream: Iterator[Completion], model: str, include_usage: bool) -> Iterator[dict[str, Any]]:
    """DashScope's incremental chunks -> OpenAI chunks: the role first (as soon as DashScope sends
    anything, so a thinking model's stream is never silent), then reasoning, content or tool-call
    deltas as they come, a chunk with each choice's finish_reason, and a usage-only chunk when asked."""
    created = int(time.time())
    header: dict[str, Any] = {}
    deltas = OpenAIDeltas()
    started: set[int] = set()
    usage_by_choice: dict[int, dict[str, Any]] = {}
    usage: dict[str, Any] = {}

    def chunk(shaped: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {**header, "object": "chat.completion.chunk", "created": created, "model": model, "choices": shaped, **extra}

    for position, completion in enumerate(upstream):
        if position == 0:
            header["id"] = f"chatcmpl-{completion.request_id}"
            yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            started.add(0)
        found = deltas.chunk_choices(_result(completion))
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
            if choice["finish_reason"] is not None:
                yield chunk([{"index": index, "delta": {}, "finish_reason": choice["finish_reason"]}])
        if completion.usage:
            usage = completion.usage
            in_chunk = choices(_result(completion))
            usage_by_choice[in_chunk[0].get("index", 0) if in_chunk else 0] = usage
    if include_usage:
        yield chunk([], usage=openai_usage(total_usage(usage_by_choice, usage)))
