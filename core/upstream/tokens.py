"""Counting a call's input tokens, with the SDK's bundled Qwen tokenizer (core/upstream/sdk.py):
the native door's /api/v1/tokenizer, and MAX_INPUT_TOKENS, the owner's rule that refuses an
over-long input before anything is sent (core/policy.py).

What is counted: the text of every message (string content, and the `text` of content parts) or
the prompt, each encoded on its own, as DashScope's own tokenizer API counts (`"你好？"` is 2
tokens): no chat template, no images. The vocabulary is the first Qwen's, so for today's models
the count is an estimate, close but not exact.
"""

from __future__ import annotations

from typing import Any

from core.errors import InvalidRequest
from core.types import Completion, GenerationCall, TokenizationCall
from core.upstream import sdk


def _content_texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return []


def input_texts(messages: list[dict[str, Any]] | None, prompt: str | None) -> list[str]:
    """The texts of a call's input, in order."""
    if messages is None:
        return [prompt] if prompt else []
    return [text for message in messages if isinstance(message, dict) for text in _content_texts(message.get("content"))]


def count_input_tokens(call: GenerationCall | TokenizationCall) -> int:
    return sum(len(sdk.token_ids(text)) for text in input_texts(call.messages, call.prompt) if text)


def tokenize(call: TokenizationCall) -> Completion:
    """DashScope's tokenizer answer (`output.token_ids`, `output.tokens`, `usage.input_tokens`),
    computed here. The SDK's tokenizer knows only Qwen models; so does this."""
    if not call.model.lower().startswith("qwen"):
        raise InvalidRequest(
            f"the tokenizer knows Qwen models only (a name starting with `qwen`), not `{call.model}`", param="model"
        )
    ids = [token for text in input_texts(call.messages, call.prompt) if text for token in sdk.token_ids(text)]
    return Completion(
        request_id="",
        output={"token_ids": ids, "tokens": [sdk.token_text(token) for token in ids]},
        usage={"input_tokens": len(ids)},
    )


def warm_tokenizer() -> None:
    """Load the tokenizer now (FC's /initialize, when MAX_INPUT_TOKENS is set), not on a caller's time."""
    sdk.token_ids("")


def input_token_limit(limits: tuple[tuple[str, int], ...], model: str) -> int | None:
    """MAX_INPUT_TOKENS for `model`: its own entry, else the one for every model (`*`), else none."""
    table = dict(limits)
    return table.get(model, table.get("*"))


def check_input_tokens(call: GenerationCall, limits: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    """Refuse (400, with the count) a call whose input is longer than MAX_INPUT_TOKENS allows; the
    notes for the log line otherwise. Nothing is counted when no limit applies."""
    limit = input_token_limit(limits, call.model) if limits else None
    if limit is None:
        return {}
    counted = count_input_tokens(call)
    if counted > limit:
        raise InvalidRequest(
            f"the input is {counted} tokens long (the Qwen tokenizer's count); this function accepts at most "
            f"{limit} for `{call.model}` (MAX_INPUT_TOKENS): shorten the messages",
            param="messages" if call.messages is not None else "prompt",
        )
    return {"input_tokens_counted": counted}
