"""The texts an embedding call embeds, checked the same way on every door that takes them (the native
door's `input.texts`, OpenAI's `input`). Pure."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidRequest


def embedding_texts(texts: Any, where: str) -> list[str]:
    """The texts to embed: one string or a non-empty list of non-empty strings."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts:
        raise InvalidRequest(f"`{where}` must be a string or a non-empty list of strings", param=where)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise InvalidRequest(f"`{where}[{index}]` must be a string (token arrays are not supported)", param=where)
        if not text.strip():
            raise InvalidRequest(f"`{where}[{index}]` is empty: every text needs something to embed", param=where)
    return texts
