"""The OpenAI-compatible door: any OpenAI client talks to Qwen by changing only its base_url.

``POST /v1/chat/completions`` and ``GET /v1/models``. The DashScope key stays in the function: the
Authorization header a client sends is never forwarded. Errors use OpenAI's body, so the `openai`
package raises BadRequestError, RateLimitError, ... as its users expect. The door parses and shapes
(handlers/openai/chat_request.py); web/serve.py does the rest.
"""

from __future__ import annotations

from typing import Any, Iterator

from flask import Blueprint, Flask, Response, jsonify, request

from core.config import Config
from core.errors import ApiError, InvalidRequest, RouteNotFound
from core.json_input import load_json
from core.openai_shapes import openai_error_body, openai_error_status
from core.types import Completion
from core.web_search import citation_pattern
from handlers.openai.answers import chat_chunks, chat_completion
from handlers.openai.chat_request import ChatRequest, parse_chat_request
from handlers.openai.embeddings_body import EmbeddingsRequest, embeddings_answer, parse_embeddings_request
from web.errors import use_error_body
from web.serve import serve
from web.services import services
from web.sse import sse_data

bp = Blueprint("openai", __name__, url_prefix="/v1")
PREFIX = "/v1/"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Everything under /v1/, unknown paths and wrong methods included, answers in OpenAI's shape.
    use_error_body(app, PREFIX, openai_error_body, openai_error_status)


class _ChatChunks:
    """One stream as OpenAI's `chat.completion.chunk` events, ending with [DONE]."""

    def __init__(self, parsed: ChatRequest) -> None:
        self._parsed = parsed

    def events(self, chunks: Iterator[Completion]) -> Iterator[str]:
        call = self._parsed.call
        for chunk in chat_chunks(chunks, call.model, self._parsed.include_usage, citation_pattern(call.parameters)):
            yield sse_data(chunk)
        yield sse_data("[DONE]")

    def error_event(self, error: ApiError) -> str:
        # No [DONE] after it: the stream must not look like it ended well.
        return sse_data(openai_error_body(error, ""))


class ChatDoor:
    def parse(self, body: bytes, config: Config) -> ChatRequest:
        if not request.is_json or not body.strip():
            raise InvalidRequest("the body must be JSON: an OpenAI Chat Completions request")
        body_json = load_json(body, "the body (an OpenAI Chat Completions request)")
        return parse_chat_request(body_json, config, services().rules)

    def answer(self, completion: Completion, parsed: ChatRequest) -> dict[str, Any]:
        return chat_completion(completion, parsed.call.model, citation_pattern(parsed.call.parameters))

    def stream_format(self, parsed: ChatRequest) -> _ChatChunks:
        return _ChatChunks(parsed)


CHAT = ChatDoor()


@bp.post("/chat/completions")
def chat_completions() -> Response:
    return serve(CHAT)


class EmbeddingsDoor:
    """`/v1/embeddings`: DashScope's TextEmbedding, through the same request path."""

    def parse(self, body: bytes, config: Config) -> EmbeddingsRequest:
        if not request.is_json or not body.strip():
            raise InvalidRequest("the body must be JSON: an OpenAI Embeddings request")
        return parse_embeddings_request(load_json(body, "the body (an OpenAI Embeddings request)"))

    def answer(self, completion: Completion, parsed: EmbeddingsRequest) -> dict[str, Any]:
        return embeddings_answer(completion, parsed)

    def stream_format(self, parsed: EmbeddingsRequest) -> _ChatChunks:
        raise InvalidRequest("embeddings are never streamed")  # parse never asks for a stream


EMBEDDINGS = EmbeddingsDoor()


@bp.post("/embeddings")
def embeddings() -> Response:
    return serve(EMBEDDINGS)


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
