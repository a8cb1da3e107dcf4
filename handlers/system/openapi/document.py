"""The OpenAPI 3.1 description of every route, served at GET /openapi.json.

Written once, here; tests/server/test_openapi.py keeps it true by running schemathesis against the live
function: every response must be one this document declares, in the declared shape.
"""

from __future__ import annotations

from typing import Any

from handlers.system.openapi.anthropic import SCHEMAS as ANTHROPIC_SCHEMAS
from handlers.system.openapi.anthropic import anthropic_paths
from handlers.system.openapi.responses import RESPONSES_SCHEMAS, responses_paths
from handlers.system.openapi.schemas import (
    CALL_ERRORS,
    DASHSCOPE_EVENT,
    NATIVE_EVENT,
    OPENAI_EVENT,
    SCHEMAS,
    error_responses,
    json_response,
    ref,
)


# Raw text: what is left once bytes.strip() took the ASCII whitespace must not be empty.
NON_BLANK_TEXT = {"type": "string", "pattern": "[^\\t\\n\\x0b\\x0c\\r ]"}


def _invoke_operation(mode: str | None) -> dict[str, Any]:
    fixed = f" The mode is fixed to {mode}: a JSON body carrying the other mode's field is a 400." if mode else ""
    kind = mode.capitalize() if mode else ""
    return {
        "summary": f"Ask Qwen ({mode} mode)" if mode else "Ask Qwen; the mode comes from the body",
        "description": (
            "Raw text (what the FC console's test tab sends), flat JSON, or DashScope's native JSON. text/plain "
            "is always text; another non-JSON type is JSON when it is an object naming messages, prompt or input, "
            "and a 400 when it is shaped like an object ({...}) but does not parse."
        ) + fixed,
        "parameters": [
            {"name": "stream", "in": "query", "required": False, "schema": {"enum": ["true", "false", "1", "0", "yes", "no", "on", "off", ""]}, "description": "Stream the answer as server-sent events"},
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"anyOf": [ref(f"Flat{kind}Body"), ref(f"Native{kind}Body" if mode else "InvokeNativeBody")]}},
                "text/plain": {"schema": NON_BLANK_TEXT},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}},
            },
        },
        "responses": {
            "200": {
                "description": "The answer, or with stream: DashScope-shaped `event:result` chunks ending with a finish_reason (an `event:error` if the stream fails)",
                "content": {"application/json": {"schema": ref("Completion")}, "text/event-stream": {"schema": DASHSCOPE_EVENT}},
            },
            **error_responses("Error", *CALL_ERRORS),
        },
    }


def _simple(summary: str, schema: str, method_errors: tuple[int, ...] = (401, 405)) -> dict[str, Any]:
    return {"summary": summary, "responses": {"200": json_response(ref(schema), summary), **error_responses("Error", *method_errors)}}


def _native(summary: str, body: str, streams: bool = False, errors: tuple[int, ...] = CALL_ERRORS) -> dict[str, Any]:
    """An operation of the DashScope-native door (handlers/native/views.py)."""
    content: dict[str, Any] = {"application/json": {"schema": ref("NativeAnswer")}}
    if streams:
        content["text/event-stream"] = {"schema": NATIVE_EVENT}
    stream_note = " With `X-DashScope-SSE: enable` (or Accept: text/event-stream): DashScope's SSE events." if streams else ""
    return {
        "post": {
            "summary": summary,
            "description": "DashScope's own path and body, answered as DashScope answers; the bearer token is the function's INVOKE_TOKEN." + stream_note,
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(body)}}},
            "responses": {"200": {"description": "DashScope's answer", "content": content}, **error_responses("NativeError", *errors)},
        }
    }


def _native_paths() -> dict[str, Any]:
    return {
        "/api/v1/services/aigc/text-generation/generation": _native("DashScope Generation (the SDK's Generation, AioGeneration)", "NativeBody", streams=True),
        "/api/v1/services/aigc/multimodal-generation/generation": _native("DashScope MultiModalConversation", "NativeBody", streams=True),
        "/api/v1/services/embeddings/text-embedding/text-embedding": _native("DashScope TextEmbedding", "NativeTextsBody"),
        "/api/v1/tokenizer": _native("DashScope Tokenization, answered here with the bundled Qwen tokenizer (no upstream call)", "NativeTokenizerBody", errors=(400, 401, 405, 413, 429, 500)),
        "/api/v1/uploads": {
            "get": {
                "summary": "Where the SDK asks to upload a local file: always refused (send https:// or data: URLs)",
                "responses": error_responses("NativeError", 400, 401, 405),
            }
        },
        "/v1/embeddings": {
            "post": {
                "summary": "OpenAI-compatible embeddings (DashScope's TextEmbedding)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("EmbeddingsRequest")}}},
                "responses": {"200": json_response(ref("EmbeddingList"), "The embeddings, in input order"), **error_responses("OpenAIError", *CALL_ERRORS)},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    openai_errors = ("OpenAIError", *CALL_ERRORS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qwen-fc",
            "version": "0.1.0",
            "description": "Qwen (通义千问) behind one HTTP function on Alibaba Cloud Function Compute. Every error is JSON; every response carries X-Request-Id.",
        },
        "security": [{}, {"bearerAuth": []}],
        "paths": {
            "/invoke": {"post": _invoke_operation(None)},
            "/invoke/messages": {"post": _invoke_operation("messages")},
            "/invoke/prompt": {"post": _invoke_operation("prompt")},
            "/v1/chat/completions": {
                "post": {
                    "summary": "OpenAI-compatible chat completion",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": ref("ChatCompletionRequest")}}},
                    "responses": {
                        "200": {
                            "description": "A chat.completion, or with stream: `data: {chat.completion.chunk}` lines and `data: [DONE]`",
                            "content": {"application/json": {"schema": ref("ChatCompletion")}, "text/event-stream": {"schema": OPENAI_EVENT}},
                        },
                        **error_responses(*openai_errors),
                    },
                }
            },
            "/v1/models": {"get": {"summary": "The models this function serves", "responses": {"200": json_response(ref("ModelList"), "The models"), **error_responses("OpenAIError", 401, 405)}}},
            "/v1/models/{model_id}": {
                "get": {
                    "summary": "One model",
                    "parameters": [{"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": json_response(ref("Model"), "The model"), **error_responses("OpenAIError", 401, 404, 405)},
                }
            },
            **_native_paths(),
            **responses_paths(),
            **anthropic_paths(),
            "/health": {"get": _simple("Liveness and configuration; never calls DashScope", "Health", (405,))},
            "/initialize": {"post": _simple("FC's initializer hook", "Status", (405,))},
            "/pre-stop": {"get": _simple("FC's pre-stop hook: flushes the logs", "Status", (405,))},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/": {
                "get": {
                    "summary": "A page to try the function in a browser (when TRY_PAGE is on)",
                    "responses": {"200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}, **error_responses("Error", 404, 405)},
                }
            },
        },
        "components": {
            "schemas": {**SCHEMAS, **RESPONSES_SCHEMAS, **ANTHROPIC_SCHEMAS},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "One of the function's INVOKE_TOKEN values (needed only when it has some)"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "The same token as x-api-key (what Anthropic's clients send)"},
            },
        },
    }
