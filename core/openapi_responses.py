"""The OpenAPI description of the Responses door (handlers/responses/): `POST /v1/responses`, and
`GET` / `DELETE /v1/responses/{response_id}` for stored responses."""

from __future__ import annotations

from typing import Any

from core.openapi_schemas import CALL_ERRORS, error_responses, json_response, ref

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 16}
_ITEM = {
    "type": "object",
    "description": "A message ({role, content}: a string or input_text / input_image parts), a function_call, a "
                   "function_call_output, or a reasoning item sent back (accepted, not sent: DashScope takes no "
                   "reasoning as input)",
    "properties": {"type": {"enum": ["message", "function_call", "function_call_output", "reasoning"]},
                   "role": {"enum": ["user", "system", "developer", "assistant"]}},
    "additionalProperties": True,
}

RESPONSES_SCHEMAS: dict[str, Any] = {
    "ResponsesRequest": {
        "type": "object",
        "description": "OpenAI's Responses request. `reasoning.effort` maps to DashScope's thinking as /v1's "
                       "reasoning_effort does; the `web_search` tool is DashScope's search; other built-in tools, "
                       "`background` and unknown fields are a 400 naming them. `store` (default true) keeps the "
                       "response for RESPONSES_TTL_S, for `previous_response_id` and GET.",
        "properties": {
            "model": {"type": "string"},
            "input": {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": _ITEM, "minItems": 1}]},
            "instructions": {"type": "string", "minLength": 1},
            "stream": {"type": "boolean"},
            "tools": {"type": "array", "items": {"type": "object", "properties": {
                "type": {"enum": ["function", "namespace", "web_search", "web_search_preview"]}}, "required": ["type"]}},
            "tool_choice": {"oneOf": [
                {"enum": ["auto", "none", "required"]},
                {"type": "object", "properties": {"type": {"const": "function"}, "name": {"type": "string", "minLength": 1}},
                 "required": ["type", "name"]},
                {"type": "object", "properties": {"type": {"enum": ["web_search", "web_search_preview"]}}, "required": ["type"]},
            ]},
            "parallel_tool_calls": {"type": "boolean"},
            "reasoning": {"type": "object", "properties": {
                "effort": {"enum": ["none", "minimal", "low", "medium", "high", "xhigh"]},
                "summary": {"enum": ["auto", "concise", "detailed"]}}},
            "text": {"type": "object", "properties": {"format": {"type": "object", "properties": {
                "type": {"enum": ["text", "json_object", "json_schema"]}}, "required": ["type"]}}},
            "max_output_tokens": {"type": "integer", "minimum": 1},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "metadata": _STRING_MAP,
            "user": {"type": "string"},
            "store": {"type": "boolean"},
            "previous_response_id": {"type": "string"},
            "include": {"type": "array", "items": {"type": "string"}, "description": "accepted; nothing to add"},
            "prompt_cache_key": {"type": "string", "description": "accepted; DashScope caches on its own"},
            "client_metadata": {"type": "object", "description": "accepted (Codex sends it)"},
            "safety_identifier": {"type": "string"},
            # Accepted and not sent (handlers/responses/parsing.py ACCEPTED), and DashScope's own fields.
            **{name: {"description": "accepted; not sent"} for name in (
                "prompt_cache_retention", "service_tier", "stream_options", "truncation", "prompt_cache_options")},
            **{name: {"$ref": f"#/components/schemas/Parameters/properties/{name}"} for name in (
                "top_k", "seed", "presence_penalty", "repetition_penalty", "stop", "enable_thinking",
                "thinking_budget", "enable_search", "search_options")},
        },
        "required": ["input"],
        "additionalProperties": False,  # any other field is a 400 naming it
    },
    "Response": {
        "type": "object",
        "description": "OpenAI's Response: output items `reasoning` (summary_text), `message` (output_text, with "
                       "url_citation annotations when DashScope searched) and `function_call`.",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "response"},
            "created_at": {"type": "integer"},
            "status": {"enum": ["completed", "incomplete", "in_progress", "failed"]},
            "incomplete_details": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                "reason": {"enum": ["max_output_tokens", "content_filter"]}}}]},
            "model": {"type": "string"},
            "output": {"type": "array", "items": {"type": "object", "properties": {
                "type": {"enum": ["message", "function_call", "reasoning"]}}, "required": ["type", "id"]}},
            "usage": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                "input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"},
                "total_tokens": {"type": "integer"},
                "input_tokens_details": {"type": "object", "properties": {"cached_tokens": {"type": "integer"}}},
                "output_tokens_details": {"type": "object", "properties": {"reasoning_tokens": {"type": "integer"}}},
            }, "required": ["input_tokens", "output_tokens", "total_tokens"]}]},
        },
        "required": ["id", "object", "created_at", "status", "model", "output"],
    },
    "ResponseDeleted": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "object": {"const": "response.deleted"}, "deleted": {"const": True}},
        "required": ["id", "object", "deleted"],
    },
}
RESPONSES_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "description": "response.created, response.in_progress, response.output_item.added, "
                  "... response.completed (or response.incomplete); response.failed if the stream fails"},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}
_ID = [{"name": "response_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def responses_paths() -> dict[str, Any]:
    stored = ("OpenAIError", 401, 404, 405, 503)
    return {
        "/v1/responses": {
            "post": {
                "summary": "OpenAI's Responses API (the Agents SDK's default model, Codex)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("ResponsesRequest")}}},
                "responses": {
                    "200": {
                        "description": "A Response, or with stream: the Responses event sequence",
                        "content": {"application/json": {"schema": ref("Response")},
                                    "text/event-stream": {"schema": RESPONSES_EVENT}},
                    },
                    **error_responses("OpenAIError", *CALL_ERRORS),
                },
            }
        },
        "/v1/responses/{response_id}": {
            "get": {"summary": "A stored response (the caller's own)", "parameters": _ID,
                    "responses": {"200": json_response(ref("Response"), "The response"), **error_responses(*stored)}},
            "delete": {"summary": "Forget a stored response", "parameters": _ID,
                       "responses": {"200": json_response(ref("ResponseDeleted"), "Deleted"), **error_responses(*stored)}},
        },
    }
