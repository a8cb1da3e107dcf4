"""The OpenAPI description of the Responses door (handlers/responses/): `POST /v1/responses`, and
`GET` / `DELETE /v1/responses/{response_id}` for stored responses."""

from __future__ import annotations

from typing import Any

from handlers.system.openapi.bodies import MODEL, STREAM
from handlers.system.openapi.chat import URL
from handlers.system.openapi.schemas import CALL_ERRORS, error_responses, json_response, ref

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 16}
_TEXT_KINDS = ["input_text", "output_text"]


def _part(kind: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"type": {"const": kind}, field: value}, "required": ["type", field],
            "additionalProperties": True}


# handlers/responses/items.py's parts: text (input_text, output_text, refusal) and input_image (by URL).
_PARTS = [*(_part(kind, "text", {"type": "string"}) for kind in _TEXT_KINDS), _part("refusal", "refusal", {"type": "string"}),
          _part("input_image", "image_url", {"anyOf": [URL, {"type": "object", "properties": {"url": URL}, "required": ["url"]}]})]
_CONTENT_PARTS = {"type": "array", "items": {"anyOf": _PARTS}}
# A text part with no text (a refusal part is text too): for a text model, content of that one part is
# empty (a 400).
_EMPTY_TEXT_PART = {"anyOf": [
    {"properties": {"type": {"enum": _TEXT_KINDS}, "text": {"const": ""}}, "required": ["type", "text"]},
    {"properties": {"type": {"const": "refusal"}, "refusal": {"const": ""}}, "required": ["type", "refusal"]}]}
# A user, system or developer message says something: a non-empty string, or parts that are not one empty text.
_SAYS_SOMETHING = {"anyOf": [{"type": "string", "minLength": 1}, {**_CONTENT_PARTS, "minItems": 2},
                             {**_CONTENT_PARTS, "contains": {"not": _EMPTY_TEXT_PART}}]}
_KIND = {"type": "string", "description": "message (the default for an item with a role), function_call, "
         "function_call_output or reasoning"}
_ITEMS = {
    "ResponsesMessage": {"type": "object", "description": "A message from the caller's side: `content` a string or "
                         "input_text / input_image parts (an image needs a multimodal model), never empty",
                         "properties": {"type": {"const": "message"}, "role": {"enum": ["user", "system", "developer"]},
                                        "content": _SAYS_SOMETHING},
                         "required": ["role", "content"], "additionalProperties": True},
    "ResponsesAssistantMessage": {"type": "object", "properties": {
        "type": {"const": "message"}, "role": {"const": "assistant"},
        "content": {"anyOf": [{"type": "string"}, _CONTENT_PARTS]}}, "required": ["role", "content"], "additionalProperties": True},
    "ResponsesFunctionCall": {"type": "object", "properties": {
        "type": {"const": "function_call"}, "call_id": {"type": "string"}, "name": {"type": "string"}, "arguments": {}},
        "required": ["type", "call_id", "name"], "additionalProperties": True},
    "ResponsesFunctionCallOutput": {"type": "object", "description": "`output`: a string, or text parts (joined); not empty", "properties": {
        "type": {"const": "function_call_output"}, "call_id": {"type": "string"},
        "output": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "minItems": 1, "items": {
            "anyOf": [_part(kind, "text", {"type": "string", "minLength": 1}) for kind in _TEXT_KINDS]}}]}},
        "required": ["type", "call_id", "output"], "additionalProperties": True},
    "ResponsesReasoning": {"type": "object", "description": "a reasoning item sent back: accepted, not sent (DashScope "
                           "takes no reasoning as input)", "properties": {"type": {"const": "reasoning"}},
                           "required": ["type"], "additionalProperties": True},
}
_SENT_ITEMS = [ref(name) for name in ("ResponsesMessage", "ResponsesAssistantMessage", "ResponsesFunctionCall",
                                      "ResponsesFunctionCallOutput")]
_FUNCTION = {"type": "object", "properties": {
    "type": {"const": "function"}, "name": {"type": "string", "minLength": 1}, "description": {"type": ["string", "null"]},
    "parameters": {"type": ["object", "null"]}, "strict": {}}, "required": ["type", "name"], "additionalProperties": True}
_SEARCH_KIND = {"type": "string", "pattern": "^web_search(_preview)?(_2[^/]*)?$"}
_TOOLS = {"type": "array", "items": {"anyOf": [
    _FUNCTION,
    {"type": "object", "description": "a named group of function tools (Codex sends them)", "properties": {
        "type": {"const": "namespace"}, "name": {"type": "string"}, "tools": {"type": "array", "items": _FUNCTION}},
     "required": ["type", "tools"], "additionalProperties": True},
    {"type": "object", "description": "DashScope's own web search (off with external_web_access false)", "properties": {
        "type": _SEARCH_KIND, "external_web_access": {"type": "boolean"},
        "search_context_size": {"enum": ["low", "medium", "high"]}, "user_location": {"type": "object"}},
     "required": ["type"], "additionalProperties": False},
]}}
_THINKING_EFFORTS = ["low", "medium", "high", "xhigh"]
# DashScope refuses forced tool use and JSON output while the model thinks: not with an effort that asks for it.
_NOT_FORCED_WHILE_THINKING = {"anyOf": [
    {"properties": {"reasoning": {"properties": {"effort": {"enum": ["none", "minimal", None]}}}}},
    {"properties": {"tool_choice": {"enum": ["auto", "none", None]},
                    "text": {"properties": {"format": {"properties": {"type": {"const": "text"}}}}}}},
]}
# Fields the door accepts and that change nothing in the answer.
_ACCEPTED = ("prompt_cache_retention", "service_tier", "stream_options", "truncation", "prompt_cache_options")

RESPONSES_SCHEMAS: dict[str, Any] = {
    **_ITEMS,
    "ResponsesRequest": {
        "type": "object",
        "description": "OpenAI's Responses request. `reasoning.effort` maps to DashScope's thinking as /v1's "
                       "reasoning_effort does; the `web_search` tool is DashScope's search; other built-in tools, "
                       "`background` and unknown fields are a 400 naming them. `store` (default true) keeps the "
                       "response for RESPONSES_TTL_S, for `previous_response_id` and GET.",
        "properties": {
            "model": MODEL,
            "input": {"anyOf": [
                {"type": "string", "minLength": 1, "description": "one user message"},
                {"type": "array", "items": {"anyOf": [*_SENT_ITEMS, ref("ResponsesReasoning")]},
                 "contains": {"anyOf": _SENT_ITEMS}, "description": "input items, at least one of them sent"},
            ]},
            "instructions": {"type": ["string", "null"]},
            "stream": STREAM,
            "tools": {**_TOOLS, "type": ["array", "null"]},
            "tool_choice": {"anyOf": [{"enum": ["auto", "none", "required", None]},
                                      {"type": "object", "properties": {"type": {"const": "function"}, "name": {"type": "string", "minLength": 1}},
                                       "required": ["type", "name"]},
                                      {"type": "object", "properties": {"type": _SEARCH_KIND}, "required": ["type"]}]},
            "parallel_tool_calls": {"type": ["boolean", "null"]},
            "reasoning": {"type": ["object", "null"], "properties": {
                "effort": {"enum": ["none", "minimal", *_THINKING_EFFORTS, None]},
                "summary": {"description": "auto, concise or detailed: echoed (DashScope's thinking has no summary setting)"}}},
            "text": {"type": ["object", "null"], "properties": {
                "format": {"anyOf": [
                    {"type": "null"},
                    {"type": "object", "properties": {"type": {"enum": ["text", "json_object"]}}, "required": ["type"]},
                    {"type": "object", "properties": {"type": {"const": "json_schema"}, "schema": {"type": "object"}},
                     "required": ["type", "schema"]}]},
                "verbosity": {"enum": ["medium", None]}}},
            "max_output_tokens": {"type": ["integer", "null"], "minimum": 1},
            "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
            "top_p": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1},
            "metadata": {**_STRING_MAP, "type": ["object", "null"]},
            "user": {"type": ["string", "null"]},
            "store": {"type": "boolean"},
            "previous_response_id": {"type": ["string", "null"]},
            "include": {"description": "accepted; nothing to add"},
            "prompt_cache_key": {"description": "accepted; DashScope caches on its own"},
            "client_metadata": {"description": "accepted (Codex sends it)"},
            "safety_identifier": {"description": "accepted"},
            **{name: {"description": "accepted; changes nothing"} for name in _ACCEPTED},
        },
        "required": ["input"],
        "additionalProperties": False,
        "allOf": [_NOT_FORCED_WHILE_THINKING],
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
