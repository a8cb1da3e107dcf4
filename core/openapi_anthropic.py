"""The OpenAPI description of the Anthropic door (handlers/anthropic/): Anthropic's Messages API
request, its `message` answer, its stream events and its error body, and count_tokens."""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/"
CALL_ERRORS = (400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504)
MEANING = {
    400: "invalid_request_error: the message names what is wrong",
    401: "authentication_error: no valid x-api-key / bearer token (INVOKE_TOKEN or a caller key)",
    403: "permission_error: DashScope's quota, or a caller's model list",
    404: "not_found_error: no such route, a retired model, or a claude-* name ANTHROPIC_MODEL_MAP does not map",
    405: "invalid_request_error: the route takes POST",
    413: "request_too_large: the body is larger than MAX_BODY_BYTES",
    429: "rate_limit_error: DashScope's limits, a caller's, or MAX_IN_FLIGHT",
    500: "api_error", 502: "api_error: DashScope failed", 503: "overloaded_error", 504: "api_error: DashScope took too long",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": MEANING[status], "content": {"application/json": {"schema": _ref("AnthropicError")}}}
            for status in statuses}


_BLOCK = {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"], "additionalProperties": True,
          "description": "text, image (base64 or url source), tool_use, tool_result (text or blocks, is_error), thinking, "
                         "redacted_thinking; `cache_control` on a block becomes DashScope's cache marker"}
_CONTENT = {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "minItems": 1, "items": _ref("AnthropicBlock")}]}
_REQUEST_PROPERTIES: dict[str, Any] = {
    "model": {"type": "string", "description": "A Qwen model, or a claude-* name ANTHROPIC_MODEL_MAP maps"},
    "messages": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
        "role": {"enum": ["user", "assistant", "system"]}, "content": _CONTENT}, "required": ["role", "content"]}},
    "system": _CONTENT,
    "tools": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1}, "description": {"type": "string"}, "input_schema": {"type": "object"}},
        "required": ["name"]}},
    "tool_choice": {"type": "object", "properties": {"type": {"enum": ["auto", "any", "tool", "none"]}, "name": {"type": "string"},
                                                     "disable_parallel_tool_use": {"type": "boolean"}}, "required": ["type"]},
    "thinking": {"type": "object", "properties": {"type": {"enum": ["enabled", "disabled", "adaptive"]},
                                                  "budget_tokens": {"type": "integer", "minimum": 1}}, "required": ["type"]},
    "metadata": {"type": "object", "properties": {"user_id": {"type": "string"}}},
    "temperature": {"type": "number", "minimum": 0, "exclusiveMaximum": 2},
    "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "top_k": {"type": "integer", "minimum": 0},
    "stop_sequences": {"type": "array", "items": {"type": "string", "minLength": 1}},
    "context_management": {"type": "object", "description": "accepted (Claude Code sends it), changes nothing"},
    "output_config": {"type": "object", "description": "`format` (json_schema) maps to DashScope's response_format; `effort` is ignored"},
}
_USAGE = {"type": "object", "properties": {name: {"type": "integer", "minimum": 0} for name in (
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")}, "required": ["input_tokens", "output_tokens"]}

SCHEMAS: dict[str, Any] = {
    "AnthropicBlock": _BLOCK,
    "AnthropicMessagesRequest": {
        "type": "object",
        "description": "Anthropic's Messages API request. A field Anthropic does not define is a 400; server tools are a 400.",
        "properties": {**_REQUEST_PROPERTIES, "max_tokens": {"type": "integer", "minimum": 1}, "stream": {"type": "boolean"}},
        "required": ["model", "messages", "max_tokens"],
    },
    "AnthropicCountTokensRequest": {"type": "object", "properties": _REQUEST_PROPERTIES, "required": ["model", "messages"]},
    "AnthropicMessage": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^msg_"}, "type": {"const": "message"}, "role": {"const": "assistant"},
            "model": {"type": "string"}, "content": {"type": "array", "items": _ref("AnthropicBlock")},
            "stop_reason": {"enum": ["end_turn", "max_tokens", "tool_use", "stop_sequence", None]},
            "stop_sequence": {"type": ["string", "null"]}, "usage": _USAGE,
        },
        "required": ["id", "type", "role", "model", "content", "stop_reason", "usage"],
    },
    "AnthropicTokenCount": {"type": "object", "properties": {"input_tokens": {"type": "integer", "minimum": 0}},
                            "required": ["input_tokens"]},
    "AnthropicError": {
        "type": "object",
        "properties": {"type": {"const": "error"}, "error": {"type": "object", "properties": {
            "type": {"enum": ["invalid_request_error", "authentication_error", "permission_error", "not_found_error",
                              "request_too_large", "rate_limit_error", "api_error", "overloaded_error", "timeout_error"]},
            "message": {"type": "string"}}, "required": ["type", "message"]}},
        "required": ["type", "error"],
    },
}
ANTHROPIC_EVENT = {
    "type": "object",
    "properties": {
        "event": {"enum": ["message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop",
                           "message_delta", "message_stop", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}


def anthropic_paths() -> dict[str, Any]:
    beta = [{"name": "beta", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "`?beta=true` (Claude Code sends it): accepted"}]
    return {
        "/v1/messages": {"post": {
            "summary": "Anthropic's Messages API (the anthropic SDKs, Claude Code)",
            "description": "The token is x-api-key or a bearer token; anthropic-version and anthropic-beta are accepted.",
            "parameters": beta,
            "security": [{}, {"apiKey": []}, {"bearerAuth": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("AnthropicMessagesRequest")}}},
            "responses": {
                "200": {"description": "A message, or with stream: Anthropic's events (an `error` event if the stream fails)",
                        "content": {"application/json": {"schema": _ref("AnthropicMessage")},
                                    "text/event-stream": {"schema": ANTHROPIC_EVENT}}},
                **_errors(*CALL_ERRORS),
            },
        }},
        "/v1/messages/count_tokens": {"post": {
            "summary": "Count a Messages API request's input tokens (system, messages, tools) with the local Qwen tokenizer",
            "parameters": beta,
            "security": [{}, {"apiKey": []}, {"bearerAuth": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("AnthropicCountTokensRequest")}}},
            "responses": {"200": {"description": "The count", "content": {"application/json": {"schema": _ref("AnthropicTokenCount")}}},
                          **_errors(400, 401, 403, 404, 405, 413, 429, 500)},
        }},
    }
