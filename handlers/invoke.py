"""The /invoke door: what FC calls for API and console invocations, and what other systems POST to.

``POST /invoke`` picks the mode from the body; ``/invoke/messages`` and ``/invoke/prompt`` fix it.
Answers are the JSON the FC console shows for the official samples, or DashScope-shaped SSE events.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

from flask import Blueprint, Response, jsonify, request, stream_with_context

from core.config import InvokeMode
from core.errors import ApiError, InternalError, ServiceNotConfigured, error_body
from core.invoke_body import parse_invoke_body, stream_flag
from core.observability import defer_log_until_stream_ends, note, stream_ended
from core.services import services
from core.sse import sse_event
from core.upstream import Completion

bp = Blueprint("invoke", __name__)
log = logging.getLogger("qwenfc")


@bp.post("/invoke")
def invoke() -> Response:
    return _invoke(None)


@bp.post("/invoke/messages")
def invoke_messages() -> Response:
    return _invoke("messages")


@bp.post("/invoke/prompt")
def invoke_prompt() -> Response:
    return _invoke("prompt")


def _stream_requested() -> bool:
    """?stream=true, Accept: text/event-stream, or DashScope's own X-DashScope-SSE: enable."""
    from_query = stream_flag(request.args.get("stream"), "stream")
    if from_query is not None:
        return from_query
    return (
        "text/event-stream" in request.headers.get("Accept", "")
        or request.headers.get("X-DashScope-SSE", "").lower() == "enable"
    )


def _invoke(fixed_mode: InvokeMode | None) -> Response:
    config, upstream = services().config, services().upstream
    invoke_request = parse_invoke_body(
        request.get_data(cache=False), request.mimetype, config, fixed_mode, _stream_requested()
    )
    note(mode=invoke_request.mode, model=invoke_request.call.model, stream=invoke_request.stream)
    if not config.api_key_configured:
        raise ServiceNotConfigured()
    if invoke_request.stream:
        return _stream_response(upstream.stream(invoke_request.call))
    completion = upstream.complete(invoke_request.call)
    note(upstream_request_id=completion.request_id, usage=completion.usage)
    return jsonify(dashscope_body(completion))


def dashscope_body(completion: Completion) -> dict[str, Any]:
    """The shape the DashScope SDK prints and the FC console shows for the official samples."""
    return {
        "status_code": 200,
        "request_id": completion.request_id,
        "code": "",
        "message": "",
        "output": completion.output,
        "usage": completion.usage,
    }


def _stream_response(chunks: Iterator[Completion]) -> Response:
    # Pull the first chunk before answering: a failure before anything was streamed (a 429, a bad
    # key, an unreachable upstream) is then a plain JSON error with its real status.
    first = next(chunks, None)
    defer_log_until_stream_ends()
    return Response(
        stream_with_context(_events(first, chunks)),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _events(first: Completion | None, chunks: Iterator[Completion]) -> Iterator[str]:
    event_id = 0
    chunk = first
    try:
        while chunk is not None:
            event_id += 1
            note(upstream_request_id=chunk.request_id, usage=chunk.usage, finish_reason=chunk.finish_reason)
            yield sse_event(event_id, "result", dashscope_body(chunk))
            chunk = next(chunks, None)
    except Exception as exc:  # noqa: BLE001 - a stream that has started ends with an error event
        if not isinstance(exc, ApiError):
            log.exception("stream failed")
        error = exc if isinstance(exc, ApiError) else InternalError()
        note(error_code=error.code)
        yield sse_event(event_id + 1, "error", error_body(error), status=error.status)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        stream_ended()
