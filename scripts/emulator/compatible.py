"""DashScope's OpenAI-compatible mode (``/compatible-mode/v1/chat/completions``): OpenAI's request
and answer shapes, streamed (``data:`` chunks, ``data: [DONE]``) or not, and its error body."""

from __future__ import annotations

import socket
import time
from typing import Any, Iterator

from flask import Response, jsonify

from .answers import Answer
from .directives import StreamFaults, error_message
from .sse import DONE, openai_event

# OpenAI's error code and type for DashScope's statuses, as compatible mode answers them.
ERROR_KINDS = {
    400: ("invalid_parameter_error", "invalid_request_error"),
    401: ("invalid_api_key", "invalid_request_error"),
    404: ("model_not_found", "invalid_request_error"),
    429: ("limit_requests", "limit_requests"),
}


def error(status: int, code: str | None, message: str, request_id: str, kind: str | None = None) -> Response:
    default_code, default_kind = ERROR_KINDS.get(status, ("internal_error", "internal_error"))
    body = {
        "error": {"code": code or default_code, "param": None, "message": message, "type": kind or default_kind},
        "id": f"chatcmpl-{request_id}",
        "request_id": request_id,
    }
    response = jsonify(body)
    response.status_code = status
    return response


def to_dashscope(body: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The messages (OpenAI parts turned into DashScope's) and the parameters of a compatible-mode
    request, so that one composer answers both APIs."""
    messages = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            content = [_part(part) for part in content if isinstance(part, dict)]
        messages.append({**message, "content": content})
    parameters = {key: value for key, value in body.items() if key not in ("model", "messages", "stream")}
    if "max_completion_tokens" in parameters and "max_tokens" not in parameters:
        parameters["max_tokens"] = parameters["max_completion_tokens"]
    return messages, parameters


def _part(part: dict[str, Any]) -> dict[str, Any]:
    shaped = _media_or_text(part)
    if "cache_control" in part:  # the context cache's marker stays on its part (cache.py)
        shaped["cache_control"] = part["cache_control"]
    return shaped


def _media_or_text(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "image_url":
        image = part.get("image_url")
        return {"image": image.get("url") if isinstance(image, dict) else image}
    if kind == "video_url":
        video = part.get("video_url")
        return {"video": video.get("url") if isinstance(video, dict) else video}
    if kind == "input_audio":
        audio = part.get("input_audio") or {}
        return {"audio": audio.get("data", "")}
    if kind in ("video", "image", "audio"):
        return {kind: part.get(kind)}
    return {"text": part.get("text", "")}


def _usage(answer: Answer) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": answer.input_tokens + answer.output_tokens,
    }
    if answer.reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": answer.reasoning_tokens}
    if answer.cache is not None:
        usage["prompt_tokens_details"] = dict(answer.cache)
    return usage


def completion(answer: Answer, request_id: str, choices: int = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": answer.text if not answer.tool_calls else ""}
    if answer.reasoning is not None:
        message["reasoning_content"] = answer.reasoning
    if answer.tool_calls:
        message["tool_calls"] = [{k: v for k, v in call.items() if k != "index"} for call in answer.tool_calls]
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.model,
        "choices": [
            {"index": n, "message": message, "finish_reason": answer.finish_reason, "logprobs": None}
            for n in range(choices)
        ],
        "usage": _usage(answer),
        "system_fingerprint": None,
    }


def chunks(
    answer: Answer,
    body: dict[str, Any],
    directives: dict[str, str],
    chunk_delay: float,
    request_id: str,
    connection: socket.socket | None,
    record: dict[str, Any],
) -> Iterator[bytes]:
    """The stream: a role chunk, reasoning and content deltas, tool calls in fragments, a chunk
    with the finish_reason, a usage chunk when ``stream_options.include_usage`` asks, ``[DONE]``."""
    created = int(time.time())
    steps = answer.steps(fragments=True)
    record.update(events_sent=0, events_planned=len(steps), completed=False)
    faults = StreamFaults(directives)

    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        return openai_event({
            "id": f"chatcmpl-{request_id}", "object": "chat.completion.chunk", "created": created,
            "model": answer.model, "choices": choices, "usage": usage, "system_fingerprint": None,
        })

    yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None, "logprobs": None}])
    for index, step in enumerate(steps, start=1):
        if index > 1 and chunk_delay:
            time.sleep(chunk_delay)
        delta: dict[str, Any] = {}
        if step.reasoning:
            delta = {"content": None, "reasoning_content": step.reasoning}
        elif step.text:
            delta = {"content": step.text}
        if step.tool_calls:
            delta = {"content": None, "tool_calls": step.tool_calls}
        if delta:
            yield chunk([{"index": 0, "delta": delta, "finish_reason": None, "logprobs": None}])
        record["events_sent"] = index
        if index == len(steps):
            break
        fault = faults.after(index, connection)
        if fault == "fail":
            status = int(directives.get("status", 500))
            code, kind = ERROR_KINDS.get(status, ("internal_error", "internal_error"))
            message = error_message(status, directives)
            yield openai_event({"error": {"code": directives.get("code", code), "param": None, "message": message, "type": kind}})
        if fault is not None:
            return
    yield chunk([{"index": 0, "delta": {"content": ""}, "finish_reason": answer.finish_reason, "logprobs": None}])
    if (body.get("stream_options") or {}).get("include_usage"):
        yield chunk([], usage=_usage(answer))
    yield DONE
    record["completed"] = True
