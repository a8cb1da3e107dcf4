"""The neutral types every layer shares: one call to make, and what comes back. No SDK, no Flask."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from core.result_shapes import content_text


@dataclass(frozen=True)
class GenerationCall:
    """One generation request as DashScope understands it."""

    model: str
    messages: list[dict[str, Any]] | None = None
    prompt: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    # Set at admission (core/routing.py) from the model's rules: which DashScope endpoint serves the
    # call, and whether its upstream call must be streamed (and assembled into one answer) even when
    # the caller asked for one answer.
    endpoint: Literal["text", "multimodal"] = "text"
    needs_stream: bool = False

    @property
    def content(self) -> Any:
        """What the caller asked (for LOG_CONTENT): the messages, or the prompt."""
        return self.messages if self.messages is not None else self.prompt


@dataclass
class Completion:
    """A DashScope result, or one chunk of a stream, as plain data."""

    request_id: str
    output: dict[str, Any]
    usage: dict[str, Any]

    @property
    def text(self) -> str:
        """The generated text this result (or chunk) carries, in either result format."""
        choices = self.output.get("choices") or []
        if choices and isinstance(choices[0], dict):
            # A string on the text endpoint, a list of {"text": ...} parts on the multimodal one.
            return content_text((choices[0].get("message") or {}).get("content"))
        return self.output.get("text") or ""

    @property
    def finish_reason(self) -> str | None:
        # Not a cached_property: a stream asks two or three times a chunk, and Python 3.11's
        # cached_property takes a lock at each first read, which costs more than reading it again.
        reason = self.output.get("finish_reason")
        choices = self.output.get("choices") or []
        if choices and isinstance(choices[0], dict):
            reason = choices[0].get("finish_reason") or reason
        # DashScope marks a chunk that is not the last with the string "null".
        return reason if reason and reason != "null" else None


@dataclass(frozen=True)
class EmbeddingCall:
    """One text-embedding request (DashScope's TextEmbedding): the texts, and its parameters
    (`dimension`, `text_type`, `output_type`, ...)."""

    model: str
    texts: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def content(self) -> Any:
        return self.texts


@dataclass(frozen=True)
class TokenizationCall:
    """Count (and list) the tokens of a text or a conversation: answered by the function itself,
    with the SDK's bundled Qwen tokenizer; nothing is sent upstream."""

    model: str
    messages: list[dict[str, Any]] | None = None
    prompt: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def content(self) -> Any:
        return self.messages if self.messages is not None else self.prompt


# Every call a door can ask the request path (web/serve.py) to make.
Call = GenerationCall | EmbeddingCall | TokenizationCall
