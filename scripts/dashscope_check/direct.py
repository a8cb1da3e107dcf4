"""The checks against DashScope itself, made the way the function makes its calls: the same settings
(core/config.py: DASHSCOPE_API_KEY, DASHSCOPE_HTTP_BASE_URL, DASHSCOPE_REGION, DASHSCOPE_WORKSPACE_ID,
MULTIMODAL_MODELS / TEXT_MODELS), the same routing (core/routing.py picks each model's endpoint) and
the same upstream client (core/upstream/), with no retries: a check reports the first answer.
"""

from __future__ import annotations

from typing import Any

from core.config import Config
from core.models import ModelRules
from core.routing import route_call
from core.types import EmbeddingCall, GenerationCall, TokenizationCall
from core.upstream.client import QwenUpstream
from core.upstream.sdk import SDK_BASE_URL

from . import (EMBEDDED_TEXT, MAX_TOKENS, PROMPT, THINKING_BUDGET, THINKING_PROMPT, TOKENIZED_TEXT, VISION_PROMPT,
               Check, CheckFailed, Models, answered, quoted, red_square_png)


def where(config: Config) -> str:
    """Where the calls go, for the line printed before the checks."""
    workspace = f", workspace {config.dashscope_workspace_id}" if config.dashscope_workspace_id else ""
    return f"DashScope at {config.dashscope_base_url or SDK_BASE_URL}{workspace}"


def checks(config: Config, models: Models, timeout_s: float) -> list[Check]:
    upstream = QwenUpstream(config.dashscope_api_key, config.dashscope_base_url, timeout_s, retries=0,
                            workspace_id=config.dashscope_workspace_id)
    rules = ModelRules.from_config(config)

    def generate(model: str, content: Any, **parameters: Any) -> GenerationCall:
        call, _notes = route_call(GenerationCall(model=model, messages=[{"role": "user", "content": content}],
                                                 parameters={"result_format": "message", **parameters}), rules)
        return call

    def text() -> str:
        answer = upstream.complete(generate(models.text, PROMPT, max_tokens=MAX_TOKENS))
        return answered(answer.text, request_id=answer.request_id, tokens=answer.usage.get("total_tokens"))

    def thinking() -> str:
        call = generate(models.thinking, THINKING_PROMPT, enable_thinking=True, thinking_budget=THINKING_BUDGET,
                        incremental_output=True)
        reasoning, text, last = "", "", None
        for chunk in upstream.stream(call):
            message = ((chunk.output.get("choices") or [{}])[0] or {}).get("message") or {}
            reasoning += message.get("reasoning_content") or ""
            text += chunk.text
            last = chunk
        if not reasoning:
            raise CheckFailed(f"streamed an answer ({quoted(text)}) but no reasoning_content: does {models.thinking} think?")
        usage = last.usage if last is not None else {}
        return f"thought {len(reasoning)} characters, then " + answered(
            text, request_id=last.request_id if last else None, tokens=usage.get("total_tokens"))

    def vision() -> str:
        call = generate(models.vision, [{"image": red_square_png()}, {"text": VISION_PROMPT}],
                        max_tokens=MAX_TOKENS, enable_thinking=False)
        if call.endpoint != "multimodal":
            raise CheckFailed(f"{models.vision} is routed to the text endpoint, which takes no images (MULTIMODAL_MODELS?)")
        answer = upstream.complete(call)
        return answered(answer.text, request_id=answer.request_id, tokens=answer.usage.get("total_tokens"))

    def embeddings() -> str:
        answer = upstream.complete(EmbeddingCall(model=models.embedding, texts=[EMBEDDED_TEXT]))
        vectors = answer.output.get("embeddings") or []
        size = len(vectors[0].get("embedding") or []) if vectors else 0
        if not size:
            raise CheckFailed(f"no vector in the answer (request id {answer.request_id or '-'})")
        return f"a {size}-dimension vector ({answer.usage.get('total_tokens')} tokens, request id {answer.request_id})"

    def tokenizer() -> str:
        answer = upstream.complete(TokenizationCall(model=models.tokenizer, prompt=TOKENIZED_TEXT))
        return f"{quoted(TOKENIZED_TEXT)} is {answer.usage['input_tokens']} tokens (the bundled Qwen tokenizer: no DashScope call)"

    return [
        (f"text       {models.text}", text),
        (f"thinking   {models.thinking} (streamed)", thinking),
        (f"vision     {models.vision}", vision),
        (f"embeddings {models.embedding}", embeddings),
        (f"tokenizer  {models.tokenizer}", tokenizer),
    ]
