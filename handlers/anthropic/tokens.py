"""What count_tokens counts: every text the call sends (system, messages, tool results), each tool
call's arguments, and each tool's definition (name, description, schema as JSON), as the local Qwen
tokenizer encodes them (core/upstream/tokens.py: an estimate for today's models; images are not counted)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.upstream.tokens import input_texts
from core.types import GenerationCall, TokenizationCall


@dataclass(frozen=True)
class CountRequest:
    call: TokenizationCall
    model_asked: str
    stream: bool = False

    def log_fields(self) -> dict[str, Any]:
        return {"door": "anthropic", "model": self.call.model, "count_tokens": True}


def counted_texts(call: GenerationCall) -> list[str]:
    texts = input_texts(call.messages, None)
    for message in call.messages or []:
        for tool_call in message.get("tool_calls") or []:
            texts.append(tool_call["function"]["arguments"])
    for tool in call.parameters.get("tools") or []:
        texts.append(json.dumps(tool["function"], ensure_ascii=False))
    return [text for text in texts if text]
