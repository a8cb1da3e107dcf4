"""OpenAI's Embeddings API ↔ DashScope's TextEmbedding (the /v1/embeddings route). Pure.

``{"model", "input": str | [str], "encoding_format": "float" | "base64", "dimensions": n, "user"}``
becomes an EmbeddingCall; DashScope's `output.embeddings` become OpenAI's `data`, as lists of floats
or, for `base64` (what the `openai` package asks for by default), the little-endian float32 bytes.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

from core.embedding_input import embedding_texts
from core.errors import InvalidRequest
from core.parameters import check_model_name
from core.types import Completion, EmbeddingCall

ENCODING_FORMATS = ("float", "base64")
KNOWN_FIELDS = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


@dataclass(frozen=True)
class EmbeddingsRequest:
    call: EmbeddingCall
    encoding_format: str
    end_user: str | None
    stream: bool = False

    def log_fields(self) -> dict[str, Any]:
        return {"door": "openai", "endpoint": "embeddings", "model": self.call.model, "user": self.end_user}


def parse_embeddings_request(body: Any) -> EmbeddingsRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object: an OpenAI Embeddings request")
    unknown = sorted(body.keys() - KNOWN_FIELDS)
    if unknown:
        raise InvalidRequest(f"unknown field `{unknown[0]}` in an Embeddings request", param=unknown[0])
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("`model` must name an embedding model, such as \"text-embedding-v4\"", param="model")
    check_model_name(model)
    encoding = body.get("encoding_format") or "float"
    if encoding not in ENCODING_FORMATS:
        raise InvalidRequest("`encoding_format` must be \"float\" or \"base64\"", param="encoding_format")
    parameters: dict[str, Any] = {}
    dimensions = body.get("dimensions")
    if isinstance(dimensions, float) and dimensions.is_integer():  # 1024.0 is JSON's 1024
        dimensions = int(dimensions)
    if dimensions is not None:
        if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
            raise InvalidRequest("`dimensions` must be a positive integer", param="dimensions")
        parameters["dimension"] = dimensions
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise InvalidRequest("`user` must be a string", param="user")
    texts = embedding_texts(body.get("input"), "input")
    return EmbeddingsRequest(EmbeddingCall(model, texts, parameters), encoding, user)


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def embeddings_answer(completion: Completion, parsed: EmbeddingsRequest) -> dict[str, Any]:
    """OpenAI's `list` of `embedding` objects, in input order."""
    items = sorted(completion.output.get("embeddings") or [], key=lambda item: item.get("text_index", 0))
    tokens = int(completion.usage.get("total_tokens") or completion.usage.get("input_tokens") or 0)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": item.get("text_index", index),
             "embedding": _encoded(item.get("embedding") or [], parsed.encoding_format)}
            for index, item in enumerate(items)
        ],
        "model": parsed.call.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
