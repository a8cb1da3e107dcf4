"""What a request on DashScope's own paths (`/api/v1/...`, handlers/native/views.py) asks for. Pure.

The bodies are DashScope's: ``{"model", "input": {...}, "parameters": {...}}``. A generation body is
read as /invoke reads it (core/dashscope_wire.py's `structured_request`), so both doors check a call
the same way; here it gets none of the function's defaults (result_format, incremental stream
events), so a caller gets exactly what DashScope would have answered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.config import Config
from core.dashscope_wire import structured_request
from core.embedding_input import embedding_texts
from core.errors import InvalidRequest
from core.json_input import load_json
from core.parameters import SDK_CONTROL_ARGUMENTS, check_model_name, model_name, validate_messages
from core.types import EmbeddingCall, GenerationCall, TokenizationCall

Endpoint = Literal["text-generation", "multimodal-generation"]
NATIVE_SHAPE = '{"model": ..., "input": {...}, "parameters": {...}}'
# What TextEmbedding takes in `parameters`, and the JSON type each must have.
EMBEDDING_PARAMETERS: dict[str, type | tuple[type, ...]] = {
    "text_type": str, "dimension": int, "output_type": str, "instruct": str,
}


@dataclass(frozen=True)
class NativeRequest:
    """A generation request on one of DashScope's generation paths."""

    call: GenerationCall
    stream: bool
    endpoint: Endpoint

    def log_fields(self) -> dict[str, Any]:
        return {"door": "native", "endpoint": self.endpoint, "model": self.call.model, "stream": self.stream}


@dataclass(frozen=True)
class NativeOtherRequest:
    """An embedding or a tokenizer request: never streamed."""

    call: EmbeddingCall | TokenizationCall
    stream: bool = False

    def log_fields(self) -> dict[str, Any]:
        kind = "embeddings" if isinstance(self.call, EmbeddingCall) else "tokenizer"
        return {"door": "native", "endpoint": kind, "model": self.call.model}


def _payload(body: bytes, what: str) -> dict[str, Any]:
    if not body.strip():
        raise InvalidRequest(f"the body is empty: send a DashScope {what} request, {NATIVE_SHAPE}")
    payload = load_json(body, f"the body (a DashScope {what} request)")
    if not isinstance(payload, dict) or not isinstance(payload.get("input"), dict):
        raise InvalidRequest(f"a DashScope {what} request is a JSON object {NATIVE_SHAPE}", param="input")
    return payload


def parse_native_generation(body: bytes, config: Config, endpoint: Endpoint, stream_requested: bool) -> NativeRequest:
    """A Generation or MultiModalConversation request. Which DashScope endpoint serves it is the
    request path's choice (by model, as on every door), not the path the caller used."""
    parsed = structured_request(_payload(body, "generation"), config, None, stream_requested, call_defaults=False)
    return NativeRequest(parsed.call, parsed.stream, endpoint)


def _parameters(payload: dict[str, Any], known: dict[str, type | tuple[type, ...]] | None = None) -> dict[str, Any]:
    parameters = payload.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidRequest("`parameters` must be a JSON object", param="parameters")
    for name, value in parameters.items():
        if name in SDK_CONTROL_ARGUMENTS:
            raise InvalidRequest(f"`{name}` cannot be set by a request: it is not a parameter", param=name)
        expected = (known or {}).get(name)
        if expected is not None and value is not None and (isinstance(value, bool) or not isinstance(value, expected)):
            kind = "an integer" if expected is int else "a string"
            raise InvalidRequest(f"`parameters.{name}` must be {kind}", param=name)
    return {name: value for name, value in parameters.items() if value is not None}


def parse_native_embedding(body: bytes) -> NativeOtherRequest:
    """A TextEmbedding request: ``{"model", "input": {"texts": [...]}, "parameters": {...}}``."""
    payload = _payload(body, "text-embedding")
    model = payload.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("`model` must name an embedding model, such as \"text-embedding-v4\"", param="model")
    check_model_name(model)
    texts = embedding_texts(payload["input"].get("texts"), "input.texts")
    return NativeOtherRequest(EmbeddingCall(model, texts, _parameters(payload, EMBEDDING_PARAMETERS)))


def parse_native_tokenization(body: bytes, config: Config) -> NativeOtherRequest:
    """A Tokenization request: ``{"model", "input": {"messages" | "prompt"}, "parameters": {...}}``."""
    payload = _payload(body, "tokenizer")
    given = payload["input"]
    messages, prompt = given.get("messages"), given.get("prompt")
    if (messages is None) == (prompt is None):
        raise InvalidRequest("`input` needs `messages` or `prompt` (one of them)", param="input")
    if messages is not None:
        validate_messages(messages)
    elif not isinstance(prompt, str) or not prompt:
        raise InvalidRequest("`input.prompt` must be a non-empty string", param="input.prompt")
    model = model_name(payload.get("model"), config.default_model)
    return NativeOtherRequest(TokenizationCall(model, messages, prompt, _parameters(payload)))
