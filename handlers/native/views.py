"""The DashScope-native door: DashScope's own paths, answered as DashScope answers them, so the official
SDK (any language) or a gateway speaking DashScope's HTTP API works unchanged with its base URL set to
``https://<function>/api/v1`` and the function's INVOKE_TOKEN as its api_key.

- ``POST /api/v1/services/aigc/text-generation/generation`` (Generation, AioGeneration) and
  ``POST /api/v1/services/aigc/multimodal-generation/generation`` (MultiModalConversation): a
  GenerationCall through the one request path (web/serve.py), so every rule of admission applies and
  the DashScope endpoint is the request path's choice (by model), not the caller's path;
- ``POST /api/v1/services/embeddings/text-embedding/text-embedding`` (TextEmbedding): an
  EmbeddingCall, the same path;
- ``POST /api/v1/tokenizer`` (Tokenization): a TokenizationCall, the same path, answered by the
  function itself with the SDK's bundled tokenizer: no upstream call, no cost.

Answers are DashScope's `{"output", "usage", "request_id"}`; streams are DashScope's SSE events
(`id`, `event:result`, `:HTTP_STATUS/200`, `data`), switched on by `X-DashScope-SSE: enable` or
`Accept: text/event-stream`; errors are `{"code", "message", "request_id"}` with their status,
in a stream an `event:error` with its `:HTTP_STATUS` line. The caller's Authorization header is
checked (web/access.py) and never forwarded; no caller header steers DashScope.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Flask, Response, request

from core.config import Config
from core.errors import ApiError, InvalidRequest
from handlers.native.body import (
    Endpoint,
    NativeOtherRequest,
    NativeRequest,
    parse_native_embedding,
    parse_native_generation,
    parse_native_tokenization,
)
from core.types import Completion
from web.errors import use_error_body
from web.serve import serve
from web.sse import DashScopeEvents
from web.tracking import current_request_id

PREFIX = "/api/v1/"
bp = Blueprint("native", __name__, url_prefix=PREFIX.rstrip("/"))


def native_error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    """DashScope's error body: what its SDKs read (`code`, `message`, `request_id`)."""
    return {"code": error.code, "message": error.message, "request_id": error.upstream_request_id or request_id}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Everything under /api/v1/, unknown paths, wrong methods and refused tokens included.
    use_error_body(app, PREFIX, native_error_body)


def native_answer(completion: Completion) -> dict[str, Any]:
    """DashScope's answer body, a stream event's data included."""
    return {
        "output": completion.output,
        "usage": completion.usage,
        "request_id": completion.request_id or current_request_id(),
    }


def _stream_requested() -> bool:
    """DashScope's switches: X-DashScope-SSE: enable (what its SDKs send), or Accept: text/event-stream."""
    return (
        request.headers.get("X-DashScope-SSE", "").lower() == "enable"
        or "text/event-stream" in request.headers.get("Accept", "")
    )


class GenerationDoor:
    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint

    def parse(self, body: bytes, config: Config) -> NativeRequest:
        if request.headers.get("X-DashScope-Async", "").lower() == "enable":
            # The SDK's async_call would wait for a task id this function never makes.
            raise InvalidRequest("DashScope's asynchronous tasks (X-DashScope-Async) are not served here: call, or stream")
        return parse_native_generation(body, config, self._endpoint, _stream_requested())

    def answer(self, completion: Completion, parsed: NativeRequest) -> dict[str, Any]:
        return native_answer(completion)

    def stream_format(self, parsed: NativeRequest) -> DashScopeEvents:
        return DashScopeEvents(native_answer, native_error_body)


class NonStreamingDoor:
    """Embeddings and the tokenizer: one answer, never a stream."""

    def __init__(self, parse: Callable[[bytes, Config], NativeOtherRequest]) -> None:
        self._parse = parse

    def parse(self, body: bytes, config: Config) -> NativeOtherRequest:
        return self._parse(body, config)

    def answer(self, completion: Completion, parsed: NativeOtherRequest) -> dict[str, Any]:
        return native_answer(completion)

    def stream_format(self, parsed: NativeOtherRequest) -> DashScopeEvents:
        return DashScopeEvents(native_answer, native_error_body)


TEXT = GenerationDoor("text-generation")
MULTIMODAL = GenerationDoor("multimodal-generation")
EMBEDDINGS = NonStreamingDoor(lambda body, config: parse_native_embedding(body))
TOKENIZER = NonStreamingDoor(parse_native_tokenization)


@bp.post("/services/aigc/text-generation/generation")
def generation() -> Response:
    return serve(TEXT)


@bp.post("/services/aigc/multimodal-generation/generation")
def multimodal_generation() -> Response:
    return serve(MULTIMODAL)


@bp.post("/services/embeddings/text-embedding/text-embedding")
def text_embedding() -> Response:
    return serve(EMBEDDINGS)


@bp.post("/tokenizer")
def tokenizer() -> Response:
    return serve(TOKENIZER)


@bp.get("/uploads")
def uploads() -> Response:
    """Where the SDK asks for an upload policy before it uploads a local file: refused, plainly."""
    raise InvalidRequest(
        "this function does not take file uploads: send images, audio and video as https:// or data: URLs, "
        "not local file paths"
    )
