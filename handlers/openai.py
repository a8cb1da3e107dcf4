"""The OpenAI-compatible door: any OpenAI client talks to Qwen by changing only its base_url.

``POST /v1/chat/completions`` and ``GET /v1/models``. The DashScope key stays in the function: the
Authorization header a client sends is never forwarded. Errors use OpenAI's body, so the `openai`
package raises BadRequestError, RateLimitError, ... as its users expect.
"""

from __future__ import annotations

from typing import Iterator

from flask import Blueprint, Flask, Response, jsonify, request

from core.errors import ApiError, InvalidRequest, RouteNotFound, error_body_for_this_door, use_error_body
from core.observability import note, note_result
from core.openai_format import chat_chunks, chat_completion, openai_error_body, parse_chat_request
from core.policy import apply_owner_policy
from core.request_body import load_json, read_body
from core.services import services
from core.sse import sse_data, stream_response
from core.upstream import Completion

bp = Blueprint("openai", __name__, url_prefix="/v1")
PREFIX = "/v1/"


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    # Everything under /v1/, unknown paths and wrong methods included, answers in OpenAI's shape.
    use_error_body(app, PREFIX, openai_error_body)


@bp.post("/chat/completions")
def chat_completions() -> Response:
    found = services()
    config, upstream = found.config, found.upstream
    # MAX_IN_FLIGHT is checked before the body is read: a refused call costs no memory.
    slot = upstream.admit()
    try:
        raw = read_body(config.max_body_bytes)
        if not request.is_json or not raw.strip():
            raise InvalidRequest("the body must be JSON: an OpenAI Chat Completions request")
        chat = parse_chat_request(load_json(raw, "the body (an OpenAI Chat Completions request)"), config)
        note(door="openai", model=chat.call.model, stream=chat.stream, user=chat.end_user)
        call = apply_owner_policy(chat.call, config)
        if chat.stream:
            # The stream releases the slot when it ends.
            return _stream_response(upstream.stream(call, slot), call.model, chat.include_usage)
        completion = upstream.complete(call)
    except BaseException:
        slot.release()
        raise
    slot.release()
    note_result(completion)
    return jsonify(chat_completion(completion, call.model))


def _stream_response(chunks: Iterator[Completion], model: str, include_usage: bool) -> Response:
    error_body = error_body_for_this_door()

    def events(upstream: Iterator[Completion]) -> Iterator[str]:
        for chunk in chat_chunks(upstream, model, include_usage):
            yield sse_data(chunk)
        yield sse_data("[DONE]")

    def error_event(error: ApiError) -> str:
        # No [DONE] after it: the stream must not look like it ended well.
        return sse_data(error_body(error))

    return stream_response(chunks, events, error_event)


def _model(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "dashscope"}


@bp.get("/models")
def list_models() -> Response:
    return jsonify({"object": "list", "data": [_model(model_id) for model_id in services().config.served_models]})


@bp.get("/models/<path:model_id>")
def retrieve_model(model_id: str) -> Response:
    if model_id not in services().config.served_models:
        raise RouteNotFound(f"the model `{model_id}` is not listed by this function", code="model_not_found")
    return jsonify(_model(model_id))
