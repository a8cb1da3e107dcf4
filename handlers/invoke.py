"""The /invoke door: what FC calls for API and console invocations, and what other systems POST to.

``POST /invoke`` picks the mode from the body; ``/invoke/messages`` and ``/invoke/prompt`` fix it.
Answers are the JSON the FC console shows for the official samples, or DashScope-shaped SSE events.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

from flask import Blueprint, Response, jsonify, request

from core.config import InvokeMode
from core.errors import ApiError, error_body_for_this_door
from core.invoke_body import parse_invoke_body, stream_flag
from core.observability import note, note_result
from core.policy import apply_owner_policy
from core.request_body import read_body
from core.services import services
from core.sse import sse_event, stream_response
from core.upstream import Completion

bp = Blueprint("invoke", __name__)


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
    environ = request.environ
    # request.args parses the query string: only when it can hold the switch (most calls have none).
    if "stream" in environ.get("QUERY_STRING", ""):
        from_query = stream_flag(request.args.get("stream"), "stream")
        if from_query is not None:
            return from_query
    return (
        "text/event-stream" in environ.get("HTTP_ACCEPT", "")
        or environ.get("HTTP_X_DASHSCOPE_SSE", "").lower() == "enable"
    )


def _invoke(fixed_mode: InvokeMode | None) -> Response:
    found = services()
    config, upstream = found.config, found.upstream
    # MAX_IN_FLIGHT is checked before the body is read: a refused call costs no memory.
    slot = upstream.admit()
    try:
        invoke_request = parse_invoke_body(
            read_body(config.max_body_bytes), request.mimetype, config, fixed_mode, _stream_requested()
        )
        note(mode=invoke_request.mode, model=invoke_request.call.model, stream=invoke_request.stream)
        call = apply_owner_policy(invoke_request.call, config)
        if invoke_request.stream:
            # The stream releases the slot when it ends.
            chunks = upstream.stream(call, slot)
            return _stream_response(chunks, cumulative=call.parameters.get("incremental_output") is False)
        completion = upstream.complete(call)
    except BaseException:
        slot.release()
        raise
    slot.release()
    note_result(completion)
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


def _stream_response(chunks: Iterator[Completion], cumulative: bool) -> Response:
    event_ids = itertools.count(1)
    error_body = error_body_for_this_door()

    def events(upstream: Iterator[Completion]) -> Iterator[str]:
        for chunk in upstream:
            yield sse_event(next(event_ids), "result", dashscope_body(chunk))

    def error_event(error: ApiError) -> str:
        return sse_event(next(event_ids), "error", error_body(error), status=error.status)

    return stream_response(chunks, events, error_event, cumulative=cumulative)
