"""Text embeddings (``/api/v1/services/embeddings/text-embedding/text-embedding``, the SDK's
``TextEmbedding``): deterministic unit vectors seeded by a hash of model and text, so the same text
always gets the same vector and different texts get different ones."""

from __future__ import annotations

import hashlib
import math
import random
from typing import Any

from .directives import count_tokens, pieces

# The dimensions each model offers, the first being its default (DashScope's model list).
DIMENSIONS = {
    "text-embedding-v1": (1536,),
    "text-embedding-v2": (1536,),
    "text-embedding-v3": (1024, 768, 512, 256, 128, 64),
    "text-embedding-v4": (1024, 2048, 1536, 768, 512, 256, 128, 64),
}
DEFAULT_DIMENSIONS = DIMENSIONS["text-embedding-v4"]
# Texts per call: 25 for v1/v2, 10 for v3 and later.
BATCH_LIMITS = {"text-embedding-v1": 25, "text-embedding-v2": 25}
DEFAULT_BATCH_LIMIT = 10


class EmbeddingRequestError(ValueError):
    """A bad embedding request, with the message DashScope's 400 carries."""


def dimensions_of(model: str) -> tuple[int, ...]:
    return DIMENSIONS.get(model, DEFAULT_DIMENSIONS)


def vector(model: str, text: str, dimension: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(f"{model}\0{text}".encode()).digest()[:8], "big")
    generator = random.Random(seed)
    values = [generator.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    return [value / norm for value in values]


def sparse(text: str) -> list[dict[str, Any]]:
    weights: dict[str, int] = {}
    for piece in pieces(text):
        if piece.strip():
            weights[piece.strip()] = weights.get(piece.strip(), 0) + 1
    return [
        {"index": int(hashlib.sha256(token.encode()).hexdigest()[:6], 16), "value": float(count), "token": token}
        for token, count in weights.items()
    ]


def answer(model: str, given: dict[str, Any], parameters: dict[str, Any], request_id: str) -> dict[str, Any]:
    texts = given.get("texts")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
        raise EmbeddingRequestError("input.texts should be a non-empty list of strings.")
    limit = BATCH_LIMITS.get(model, DEFAULT_BATCH_LIMIT)
    if len(texts) > limit:
        raise EmbeddingRequestError(f"batch size is invalid, it should not be larger than {limit}.")
    if not all(text.strip() for text in texts):
        raise EmbeddingRequestError("input.texts should not contain an empty string.")
    offered = dimensions_of(model)
    dimension = parameters.get("dimension", offered[0])
    if dimension not in offered:
        raise EmbeddingRequestError(f"dimension should be one of {list(offered)} for {model}.")
    output_type = parameters.get("output_type", "dense")
    embeddings = []
    for index, text in enumerate(texts):
        item: dict[str, Any] = {"text_index": index}
        if output_type in ("dense", "dense&sparse"):
            item["embedding"] = vector(model, text, dimension)
        if output_type in ("sparse", "dense&sparse"):
            item["sparse_embedding"] = sparse(text)
        embeddings.append(item)
    tokens = sum(count_tokens(text) for text in texts)
    return {"output": {"embeddings": embeddings}, "usage": {"total_tokens": tokens}, "request_id": request_id}
