"""The checks through a deployed function's doors (`--function URL --token T`): /invoke, the OpenAI
door (/v1/chat/completions, streamed for thinking; /v1/embeddings) and the DashScope-native door
(/api/v1/...: generation, multimodal generation, TextEmbedding, tokenizer), each with one short call.
Plain HTTP (requests), so what is checked is what any client of that door sends.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import requests

from core.models import ModelRules

from . import (EMBEDDED_TEXT, MAX_TOKENS, PROMPT, THINKING_BUDGET, THINKING_PROMPT, TOKENIZED_TEXT, VISION_PROMPT,
               Check, CheckFailed, Models, answered, content_text, quoted, red_square_png)

NATIVE = "/api/v1/services"


def checks(url: str, token: str | None, models: Models, timeout_s: float) -> list[Check]:
    base = url.rstrip("/")
    session = requests.Session()
    session.trust_env = False  # the function's URL as given, never a proxy from the environment
    if token:
        session.headers["Authorization"] = f"Bearer {token}"

    def post(path: str, body: dict[str, Any], stream: bool = False) -> requests.Response:
        headers = {"Accept": "text/event-stream"} if stream else {}
        response = session.post(base + path, json=body, headers=headers, timeout=timeout_s, stream=stream)
        if response.status_code != 200:
            raise CheckFailed(f"{response.status_code} {_error_text(response)}")
        return response

    def user(content: Any) -> list[dict[str, Any]]:
        return [{"role": "user", "content": content}]

    def invoke_text() -> str:
        body = post("/invoke", {"model": models.text, "messages": user(PROMPT), "max_tokens": MAX_TOKENS}).json()
        return _native_answer(body)

    def v1_text() -> str:
        body = post("/v1/chat/completions", {"model": models.text, "messages": user(PROMPT), "max_tokens": MAX_TOKENS}).json()
        return answered(body["choices"][0]["message"]["content"] or "", request_id=_request_id(body),
                        tokens=(body.get("usage") or {}).get("total_tokens"))

    def v1_thinking() -> str:
        body = {"model": models.thinking, "messages": user(THINKING_PROMPT), "stream": True,
                "stream_options": {"include_usage": True}, "reasoning_effort": "low"}
        reasoning, text, tokens, done = "", "", None, False
        for event in _events(post("/v1/chat/completions", body, stream=True)):
            if event == "[DONE]":
                done = True
                break
            chunk = json.loads(event)
            if "error" in chunk:
                raise CheckFailed(f"an error event mid-stream: {chunk['error'].get('code')}: {chunk['error'].get('message')}")
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                reasoning += delta.get("reasoning_content") or ""
                text += delta.get("content") or ""
            tokens = (chunk.get("usage") or {}).get("total_tokens", tokens)
        if not done:
            raise CheckFailed(f"the stream ended without [DONE] after {quoted(text)}")
        if not reasoning:
            raise CheckFailed(f"streamed {quoted(text)} but no reasoning_content: does {models.thinking} think?")
        return f"thought {len(reasoning)} characters, then " + answered(text, request_id=None, tokens=tokens)

    def v1_vision() -> str:
        parts = [{"type": "image_url", "image_url": {"url": red_square_png()}}, {"type": "text", "text": VISION_PROMPT}]
        body = post("/v1/chat/completions", {"model": models.vision, "messages": user(parts), "max_tokens": MAX_TOKENS,
                                             "enable_thinking": False}).json()
        return answered(body["choices"][0]["message"]["content"] or "", request_id=_request_id(body),
                        tokens=(body.get("usage") or {}).get("total_tokens"))

    def native_text() -> str:
        body = {"model": models.text, "input": {"messages": user(PROMPT)},
                "parameters": {"result_format": "message", "max_tokens": MAX_TOKENS}}
        return _native_answer(post(f"{NATIVE}/aigc/text-generation/generation", body).json())

    def native_thinking() -> str:
        body = {"model": models.thinking, "input": {"messages": user(THINKING_PROMPT)},
                "parameters": {"result_format": "message", "incremental_output": True, "enable_thinking": True,
                               "thinking_budget": THINKING_BUDGET}}
        reasoning, text, last = "", "", {}
        for event in _events(post(f"{NATIVE}/aigc/{_endpoint(models.thinking)}-generation/generation", body, stream=True)):
            last = json.loads(event)
            if last.get("code"):
                raise CheckFailed(f"an error event mid-stream: {last.get('code')}: {last.get('message')}")
            message = ((last.get("output") or {}).get("choices") or [{}])[0].get("message") or {}
            reasoning += message.get("reasoning_content") or ""
            text += content_text(message.get("content"))
        if not reasoning:
            raise CheckFailed(f"streamed {quoted(text)} but no reasoning_content: does {models.thinking} think?")
        return f"thought {len(reasoning)} characters, then " + answered(
            text, request_id=last.get("request_id"), tokens=(last.get("usage") or {}).get("total_tokens"))

    def v1_embeddings() -> str:
        body = post("/v1/embeddings", {"model": models.embedding, "input": EMBEDDED_TEXT}).json()
        size = len(body["data"][0]["embedding"]) if body.get("data") else 0
        if not size:
            raise CheckFailed("no vector in the answer")
        return f"a {size}-dimension vector ({(body.get('usage') or {}).get('total_tokens')} tokens)"

    def native_embeddings() -> str:
        body = post(f"{NATIVE}/embeddings/text-embedding/text-embedding",
                    {"model": models.embedding, "input": {"texts": [EMBEDDED_TEXT]}}).json()
        vectors = (body.get("output") or {}).get("embeddings") or []
        if not vectors or not vectors[0].get("embedding"):
            raise CheckFailed(f"no vector in the answer (request id {body.get('request_id') or '-'})")
        return f"a {len(vectors[0]['embedding'])}-dimension vector (request id {body.get('request_id')})"

    def native_tokenizer() -> str:
        body = post("/api/v1/tokenizer", {"model": models.tokenizer, "input": {"prompt": TOKENIZED_TEXT}}).json()
        return f"{quoted(TOKENIZED_TEXT)} is {body['usage']['input_tokens']} tokens"

    return [
        (f"text       {models.text} · /invoke", invoke_text),
        (f"text       {models.text} · /v1/chat/completions", v1_text),
        (f"text       {models.text} · /api/v1 (DashScope's own)", native_text),
        (f"thinking   {models.thinking} · /v1/chat/completions, streamed", v1_thinking),
        (f"thinking   {models.thinking} · /api/v1 (DashScope's own), streamed", native_thinking),
        (f"vision     {models.vision} · /v1/chat/completions", v1_vision),
        (f"embeddings {models.embedding} · /v1/embeddings", v1_embeddings),
        (f"embeddings {models.embedding} · /api/v1 TextEmbedding", native_embeddings),
        (f"tokenizer  {models.tokenizer} · /api/v1/tokenizer", native_tokenizer),
    ]


def _request_id(completion: dict[str, Any]) -> str | None:
    """DashScope's request id, inside the OpenAI door's `chatcmpl-<request id>`."""
    return str(completion.get("id") or "").removeprefix("chatcmpl-") or None


def _endpoint(model: str) -> str:
    """The native path the dashscope SDK would use for this model (the function's own rules by name)."""
    return "multimodal" if ModelRules().endpoint(model) == "multimodal" else "text"


def _native_answer(body: dict[str, Any]) -> str:
    output = body.get("output") or {}
    choices = output.get("choices") or []
    text = content_text((choices[0].get("message") or {}).get("content")) if choices else output.get("text") or ""
    return answered(text, request_id=body.get("request_id"), tokens=(body.get("usage") or {}).get("total_tokens"))


def _events(response: requests.Response) -> Iterator[str]:
    """The `data:` payloads of an SSE stream (DashScope's `data:` and OpenAI's `data: `)."""
    with response:
        for line in response.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                yield line[5:].strip()


def _error_text(response: requests.Response) -> str:
    """A door's error body on one line: OpenAI's {error: {code, message}}, or DashScope's {code, message}."""
    try:
        body = response.json()
    except ValueError:
        return quoted(response.text or response.reason or "", 120)
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    return f"{error.get('code') or error.get('type') or ''}: {error.get('message') or ''}".strip(": ")
