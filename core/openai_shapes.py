"""OpenAI's shapes, for the doors that speak OpenAI's protocol (/v1 and /v1/responses): DashScope's
results and stream chunks (core/result_shapes.py) as usage with reasoning tokens, `chat.completion`
choices and stream deltas with reasoning and tool-call fragments; and OpenAI's error body. Pure."""

from __future__ import annotations

import uuid
from typing import Any

from core.errors import ApiError, UpstreamQuotaExhausted, UpstreamThrottled
from core.result_shapes import choices, content_text, finish_reason

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
}
# DashScope's limits (core/upstream/limits.py) as OpenAI names them: OpenAI's own code for a rate limit,
# with its `type` naming the limit ("requests", "tokens", as OpenAI's own 429s do), or its code and type
# for a spent quota (clients stop retrying).
OPENAI_LIMITS = {
    "rpm": ("rate_limit_exceeded", "requests"),
    "tpm": ("rate_limit_exceeded", "tokens"),
    "burst": ("rate_limit_exceeded", "burst_rate"),
    "throttling": ("rate_limit_exceeded", "rate_limit_exceeded"),
    "free_quota": ("insufficient_quota", "insufficient_quota"),
    "billing": ("insufficient_quota", "insufficient_quota"),
}


def openai_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """DashScope usage -> OpenAI's, with reasoning tokens, and `prompt_tokens_details` as DashScope
    reports it: `cached_tokens`, and for its explicit cache `cache_creation_input_tokens`,
    `cache_creation: {ephemeral_5m_input_tokens}` and `cache_type` (help.aliyun.com/zh/model-studio/context-cache)."""
    prompt = int(usage.get("input_tokens") or 0)
    completion = int(usage.get("output_tokens") or 0)
    shaped: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(usage.get("total_tokens") or prompt + completion),
    }
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    if reasoning is not None:
        shaped["completion_tokens_details"] = {"reasoning_tokens": int(reasoning)}
    details = usage.get("prompt_tokens_details")
    if isinstance(details, dict) and details:
        shaped["prompt_tokens_details"] = dict(details)
    return shaped


def openai_tool_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Whole tool calls (a non-streamed or assembled message) in OpenAI's shape, without `index`."""
    return [
        {
            "id": call.get("id") or _new_call_id(),
            "type": call.get("type") or "function",
            "function": call.get("function") or {},
        }
        for call in calls
    ]


def openai_choices(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A DashScope result's choices (one, or `n`) as OpenAI `chat.completion` choices."""
    shaped = []
    for position, choice in enumerate(choices(result)):
        message = choice.get("message") or {}
        calls = message.get("tool_calls") or []
        text = content_text(message.get("content"))
        answer: dict[str, Any] = {"role": "assistant", "content": None if calls and not text else text}
        if message.get("reasoning_content"):
            answer["reasoning_content"] = message["reasoning_content"]
        if calls:
            answer["tool_calls"] = openai_tool_calls(calls)
        logprobs = choice.get("logprobs")
        shaped.append({
            "index": choice.get("index", position),
            "message": answer,
            "finish_reason": finish_reason(choice),
            "logprobs": logprobs if isinstance(logprobs, dict) else None,
        })
    return shaped


def _new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


class OpenAIDeltas:
    """DashScope stream choices -> OpenAI `delta`s, remembering which tool calls have started: a
    call's first delta carries index, id, type and name, later ones only argument fragments."""

    def __init__(self) -> None:
        self._started: set[tuple[int, int]] = set()

    def tool_call_deltas(self, fragments: list[dict[str, Any]], choice_index: int = 0) -> list[dict[str, Any]]:
        deltas = []
        for position, fragment in enumerate(fragments):
            if not isinstance(fragment, dict):
                continue
            index = fragment.get("index", position)
            function = fragment.get("function") or {}
            arguments = function.get("arguments") or ""
            if (choice_index, index) in self._started:
                if arguments:
                    deltas.append({"index": index, "function": {"arguments": arguments}})
                continue
            self._started.add((choice_index, index))
            deltas.append({
                "index": index,
                "id": fragment.get("id") or _new_call_id(),
                "type": fragment.get("type") or "function",
                "function": {"name": function.get("name") or "", "arguments": arguments},
            })
        return deltas

    def chunk_choices(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A chunk's choices (`result_shapes.choices(chunk)`) as OpenAI chunk choices: index, delta,
        finish_reason, logprobs if any. A choice with an empty delta and no finish_reason is kept: the
        caller may skip it."""
        shaped = []
        for position, choice in enumerate(found):
            index = choice.get("index", position)
            entry = {"index": index, "delta": self.delta(choice, index), "finish_reason": finish_reason(choice)}
            if isinstance(choice.get("logprobs"), dict):
                entry["logprobs"] = choice["logprobs"]
            shaped.append(entry)
        return shaped

    def delta(self, choice: dict[str, Any], choice_index: int = 0) -> dict[str, Any]:
        """What this chunk's choice adds: reasoning_content, content, tool_calls (each only if any)."""
        message = choice.get("message") or {}
        delta: dict[str, Any] = {}
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning:
            delta["reasoning_content"] = reasoning
        text = content_text(message.get("content"))
        if text:
            delta["content"] = text
        calls = self.tool_call_deltas(message.get("tool_calls") or [], choice_index)
        if calls:
            delta["tool_calls"] = calls
        return delta


def openai_error_body(error: ApiError, _request_id: str) -> dict[str, Any]:
    """OpenAI's error shape (it has no place for a request id: that is in the X-Request-Id header)."""
    if isinstance(error, (UpstreamThrottled, UpstreamQuotaExhausted)):
        code, kind = OPENAI_LIMITS[error.limit]
        return {"error": {"message": error.message, "type": kind, "param": None, "code": code}}
    code = error.openai_code or error.code
    status = openai_error_status(error)
    status_type = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    if code == "insufficient_quota":  # OpenAI's own type for a spent quota (clients stop retrying)
        status_type = "insufficient_quota"
    elif code == "model_not_found":  # OpenAI's own pairing: a 404 of type invalid_request_error
        status_type = "invalid_request_error"
    return {"error": {"message": error.message, "type": status_type, "param": error.param, "code": code}}


def openai_error_status(error: ApiError) -> int:
    """The status OpenAI's clients expect for `error` (a model DashScope does not know: 404)."""
    return error.openai_status or error.status
