"""The OpenAPI description of the Anthropic door (handlers/anthropic/): Anthropic's Messages API
request, its `message` answer, its stream events and its error body, and count_tokens."""

from __future__ import annotations

from typing import Any

from handlers.system.openapi.chat import BASE64, TOKEN, URL

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


def _block(kind: str, properties: dict[str, Any], required: tuple[str, ...] = (), description: str = "") -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": {"type": {"const": kind}, **properties},
            "required": ["type", *required], "additionalProperties": True}


_MEDIA_TYPE = f"^{TOKEN}/{TOKEN}$"
_TEXT = _block("text", {"text": {"type": "string"}}, ("text",),
               "an empty text says nothing: dropped; `cache_control` on a block becomes DashScope's cache marker")
_IMAGE = _block("image", {"source": {"anyOf": [
    {"type": "object", "properties": {"type": {"const": "base64"}, "media_type": {"type": "string", "pattern": _MEDIA_TYPE},
                                      "data": {"type": "string", "pattern": f"^{BASE64}$"}},
     "required": ["type", "media_type", "data"]},
    {"type": "object", "properties": {"type": {"const": "url"}, "url": URL}, "required": ["type", "url"]},
]}}, ("source",), "an image (base64 or url source): a multimodal model only")
_TOOL_USE = _block("tool_use", {"id": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1},
                                "input": {"type": "object"}}, ("id", "name"))
_TOOL_RESULT = _block("tool_result", {"tool_use_id": {"type": "string", "minLength": 1},
                                      "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": _TEXT}]},
                                      "is_error": {"type": "boolean"}}, ("tool_use_id",),
                      "a tool's result (text; images too, for a multimodal model)")
_THINKING = {"type": "object", "properties": {"type": {"enum": ["thinking", "redacted_thinking"]}}, "required": ["type"],
             "additionalProperties": True, "description": "thinking sent back: accepted, not sent (DashScope takes none)"}
_SAYS = {"anyOf": [_ref("AnthropicText"), _IMAGE]}


def _message(role: Any, blocks: list[dict[str, Any]], said: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A message with these blocks, and the same message when it says something (what is sent)."""
    def shaped(content: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "properties": {"role": role, "content": content}, "required": ["role", "content"]}
    return (shaped({"anyOf": [{"type": "string"}, {"type": "array", "items": {"anyOf": blocks}}]}),
            shaped({"anyOf": [{"type": "string", "minLength": 1},
                              {"type": "array", "items": {"anyOf": blocks}, "contains": {"anyOf": said}}]}))


_SAID_TEXT = {**_TEXT, "properties": {**_TEXT["properties"], "text": {"type": "string", "minLength": 1}}}
_USER, _USER_SAYS = _message({"const": "user"}, [_ref("AnthropicText"), _IMAGE, _TOOL_RESULT, _THINKING],
                             [_SAID_TEXT, _IMAGE, _TOOL_RESULT])
_ASSISTANT, _ASSISTANT_SAYS = _message({"const": "assistant"}, [_ref("AnthropicText"), _IMAGE, _TOOL_USE, _THINKING],
                                       [_SAID_TEXT, _IMAGE, _TOOL_USE])
_SYSTEM, _ = _message({"const": "system"}, [_ref("AnthropicText")], [_SAID_TEXT])
_CONTENT = {"anyOf": [{"type": "string"}, {"type": "array", "items": _ref("AnthropicText")}]}
_REQUEST_PROPERTIES: dict[str, Any] = {
    "model": {"type": "string", "description": "A Qwen model, or a claude-* name ANTHROPIC_MODEL_MAP maps"},
    "messages": {"type": "array", "items": {"anyOf": [_USER, _ASSISTANT, _SYSTEM]},
                 "contains": {"anyOf": [_USER_SAYS, _ASSISTANT_SAYS]},
                 "description": "at least one user or assistant message that says something (empty text blocks "
                                "are dropped; a `system` message joins `system`)"},
    "system": {"anyOf": [*_CONTENT["anyOf"], {"type": "null"}]},
    "tools": {"type": ["array", "null"], "items": {"type": "object", "properties": {
        "type": {"const": "custom"}, "name": {"type": "string", "minLength": 1}, "description": {"type": "string"},
        "input_schema": {"type": "object"}}, "required": ["name"]}},
    "tool_choice": {"anyOf": [
        {"type": "null"},
        {"type": "object", "properties": {"type": {"enum": ["auto", "any", "none"]}, "disable_parallel_tool_use": {"type": "boolean"}},
         "required": ["type"]},
        {"type": "object", "properties": {"type": {"const": "tool"}, "name": {"type": "string", "minLength": 1},
                                          "disable_parallel_tool_use": {"type": "boolean"}}, "required": ["type", "name"]}]},
    "thinking": {"anyOf": [
        {"type": "null"},
        {"type": "object", "properties": {"type": {"enum": ["enabled", "adaptive"]}, "budget_tokens": {"type": "integer", "minimum": 1}},
         "required": ["type"]},
        {"type": "object", "properties": {"type": {"const": "disabled"}}, "required": ["type"]}]},
    "metadata": {"type": ["object", "null"], "properties": {"user_id": {"type": ["string", "null"]}}},
    "temperature": {"type": ["number", "null"], "minimum": 0, "exclusiveMaximum": 2},
    "top_p": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1},
    "top_k": {"type": ["integer", "null"], "minimum": 0},
    "stop_sequences": {"type": ["array", "null"], "items": {"type": "string", "minLength": 1}},
    "context_management": {"description": "accepted (Claude Code sends it), changes nothing"},
    "output_config": {"type": ["object", "null"], "properties": {"format": {"type": ["object", "null"], "properties": {
        "type": {"const": "json_schema"}, "schema": {"type": "object"}}, "required": ["type", "schema"]}},
        "description": "`format` (json_schema) maps to DashScope's response_format; `effort` is ignored"},
}
# Said in words (schemathesis cannot generate from "the last item"; tests/server/test_openapi.py holds generated
# requests to it).
PREFILL = (" A last assistant message without tool_use is a prefill (DashScope's partial mode, the answer continues it): "
           "not with `thinking` enabled or adaptive (DashScope refuses partial mode while the model thinks: a 400).")
# DashScope refuses forced tool use and JSON output while the model thinks: not with thinking asked for.
_NOT_FORCED_WHILE_THINKING = {"anyOf": [
    {"properties": {"thinking": {"properties": {"type": {"const": "disabled"}}}}},
    {"properties": {"tool_choice": {"properties": {"type": {"enum": ["auto", "none"]}}},
                    "output_config": {"properties": {"format": {"type": "null"}}}}},
]}
_USAGE = {"type": "object", "properties": {name: {"type": "integer", "minimum": 0} for name in (
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")}, "required": ["input_tokens", "output_tokens"]}

SCHEMAS: dict[str, Any] = {
    "AnthropicBlock": {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"],
                       "additionalProperties": True, "description": "text, thinking, tool_use: what an answer holds"},
    "AnthropicText": _TEXT,
    "AnthropicMessagesRequest": {
        "type": "object",
        "description": "Anthropic's Messages API request. A field Anthropic does not define is a 400; server tools are a 400." + PREFILL,
        "properties": {**_REQUEST_PROPERTIES, "max_tokens": {"type": "integer", "minimum": 1}, "stream": {"type": ["boolean", "null"]}},
        "required": ["model", "messages", "max_tokens"],
        "additionalProperties": False,
        "allOf": [_NOT_FORCED_WHILE_THINKING],
    },
    "AnthropicCountTokensRequest": {"type": "object", "description": "The Messages request without max_tokens." + PREFILL,
                                    "properties": _REQUEST_PROPERTIES, "required": ["model", "messages"],
                                    "additionalProperties": False, "allOf": [_NOT_FORCED_WHILE_THINKING]},
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
