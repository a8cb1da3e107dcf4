"""The OpenAPI schemas of the /v1 door: OpenAI's Chat Completions request (with content parts and
the fields issue 12 added), and its answers (choices with reasoning, tool calls, logprobs)."""

from __future__ import annotations

from typing import Any

from handlers.system.openapi.bodies import MODEL, STREAM, message_schema, parameter_rules, thinking_not_asked

NULL = {"type": "null"}  # absent or null

REF = "#/components/schemas/"
OPENAI_TEMPERATURE = {"type": "number", "minimum": 0, "maximum": 2,
                      "description": "OpenAI's range; 2 is sent to DashScope as 1.99 (DashScope's range is [0, 2))"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _part(kind: str, value: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": {"type": {"const": kind}, kind: value},
            "required": ["type", kind], "additionalProperties": True}


# core/media.py's safe_media_url, as patterns: http(s):// with a host, or a base64 data: URL; no
# whitespace or control character anywhere; the scheme in any case.
_UNSAFE = "\\x00-\\x20\\x7f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_PLAIN = f"[^{_UNSAFE}]"
TOKEN = "[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*"
BASE64 = "[a-zA-Z0-9+/_-]+={0,2}"
# userinfo up to the last "@", a host, a port, then the path, query or fragment (urlsplit's reading).
HTTP_URL = (f"^[Hh][Tt][Tt][Pp][Ss]?://([^/?#\\[\\]{_UNSAFE}]*@)?[^/?#@:\\[\\]{_UNSAFE}]+(:[^/?#@\\[\\]{_UNSAFE}]*)?"
            f"([/?#]{_PLAIN}*)?$")
DATA_URL = f"^[Dd][Aa][Tt][Aa]:{TOKEN}/{TOKEN}(;{TOKEN}={TOKEN})*;[Bb][Aa][Ss][Ee]64,{BASE64}$"
URL = {"type": "string", "anyOf": [{"pattern": HTTP_URL}, {"pattern": DATA_URL}],
       "description": "an http(s):// URL with a host, or a base64 data: URL (never a local path: a 400)"}
CONTENT_PARTS = {
    "ChatTextPart": _part("text", {"type": "string"}, "Text; every model"),
    "ChatImagePart": _part("image_url", {"anyOf": [URL, {"type": "object", "properties": {"url": URL}, "required": ["url"]}]},
                           "An image; multimodal models only (VL, omni, QVQ, Qwen 3.5+), a 400 naming the model otherwise"),
    "ChatAudioPart": _part("input_audio", {"type": "object", "anyOf": [
        {"properties": {"data": URL}, "required": ["data"]},
        {"properties": {"data": {"type": "string", "pattern": f"^{BASE64}$"}, "format": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.+-]{0,15}$"}},
         "required": ["data", "format"]},
    ]}, "Audio (base64 with its format, or a URL); multimodal models only"),
    "ChatVideoPart": _part("video_url", {"anyOf": [URL, {"type": "object", "properties": {"url": URL}, "required": ["url"]}]},
                           "A video; multimodal models only"),
}


# A text part with no text: for a text model, content of that one part is empty (a 400).
_EMPTY_TEXT_PART = {"properties": {"type": {"const": "text"}, "text": {"const": ""}}, "required": ["type", "text"]}


def _chat_message() -> dict[str, Any]:
    schema = message_schema(
        ["system", "developer", "user", "assistant", "tool"],
        {"oneOf": [{"type": "string"}, {"type": "null"}, {"type": "array", "items": {"anyOf": [_ref(name) for name in CONTENT_PARTS]}}]},
        {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "minItems": 2},
                   {"type": "array", "contains": {"not": _EMPTY_TEXT_PART}}]},
    )
    schema["properties"].update({
        "tool_call_id": {"type": "string"},
        "partial": {"type": "boolean", "description": "on the last assistant message: partial mode (the answer continues it)"},
    })
    return schema


# Rules across fields this door also checks, said in the request's description: schemathesis cannot
# generate from the document with them beside the others (tests/server/test_openapi.py holds
# generated requests to them).
RULES_IN_PROSE = [
    # web_search_options turns search on: not with enable_search false.
    {"anyOf": [{"properties": {"web_search_options": NULL}}, {"properties": {"enable_search": {"enum": [True, None]}}}]},
    # One of the two token limits (the function takes both only when they agree).
    {"anyOf": [{"properties": {"max_tokens": NULL}}, {"properties": {"max_completion_tokens": NULL}}]},
    # OpenAI deltas are incremental.
    {"anyOf": [{"properties": {"stream": {"enum": [False, None]}}}, {"properties": {"incremental_output": {"enum": [True, None]}}}]},
    # reasoning_effort maps onto thinking_budget and enable_thinking: not with the first, agreeing with the second.
    {"anyOf": [{"properties": {"reasoning_effort": NULL}}, {"properties": {"thinking_budget": NULL}}]},
    {"anyOf": [{"properties": {"reasoning_effort": {"enum": ["none", "minimal", None]}}}, {"properties": {"enable_thinking": {"enum": [True, None]}}}]},
    {"anyOf": [{"properties": {"reasoning_effort": {"enum": ["low", "medium", "high", "xhigh", None]}}},
               {"properties": {"enable_thinking": {"enum": [False, None]}}}]},
    # Partial mode (an assistant message with `partial: true` last) while the call asks for thinking.
    {"anyOf": [thinking_not_asked(["none", "minimal"]),
               {"properties": {"messages": {"items": {"properties": {"partial": {"enum": [False, None]}}}}}}]},
]
PROSE = (" Also a 400: both `max_tokens` and `max_completion_tokens` (unless equal), `stream` with `incremental_output: false`, "
         "`reasoning_effort` with `thinking_budget`, `reasoning_effort` disagreeing with `enable_thinking`, and "
         "`web_search_options` with `enable_search: false`, and a last assistant message with `partial: true` while the call "
         "asks for thinking (`enable_thinking`, `thinking_budget` or `reasoning_effort`).")


def chat_schemas(parameters: dict[str, Any]) -> dict[str, Any]:
    """The /v1 schemas; `parameters` are core/parameters.py's documented parameters (as OpenAPI)."""
    shared = ("top_p", "seed", "stop", "presence_penalty", "tools", "tool_choice", "response_format", "enable_thinking",
              "thinking_budget", "reasoning_effort", "n", "logprobs", "top_logprobs", "parallel_tool_calls",
              "search_options", "translation_options")
    return {
        **CONTENT_PARTS,
        "ChatMessage": _chat_message(),
        "ChatCompletionRequest": {
            "type": "object",
            "description": "OpenAI's Chat Completions request. Fields DashScope cannot honour are a 400; DashScope's own "
                           "(top_k, enable_search, enable_thinking, ...) are accepted. reasoning_effort maps to enable_thinking "
                           "and thinking_budget (README). Forced tool use, JSON output and partial mode turn a model's default "
                           "thinking off." + PROSE,
            "properties": {
                **parameters,  # DashScope's own (top_k, enable_search, ...) are checked as on /invoke
                "model": MODEL,
                "messages": {"type": "array", "minItems": 1, "items": _ref("ChatMessage")},
                "temperature": OPENAI_TEMPERATURE,
                "max_tokens": parameters["max_tokens"],
                "max_completion_tokens": parameters["max_tokens"],
                **{name: parameters[name] for name in shared},
                "stream": STREAM,
                "stream_options": {"type": ["object", "null"], "properties": {"include_usage": {"type": "boolean"}},
                                   "description": "only with `stream: true`"},
                "result_format": {"enum": ["message", None], "description": "this door always asks DashScope for messages"},
                "user": {"type": ["string", "null"]},
                "web_search_options": {
                    "type": "object",
                    "description": "OpenAI's web search: turns on DashScope's search with sources and citation markers "
                                   "(search_context_size high asks for the max strategy; user_location is not sent)",
                    "properties": {"search_context_size": {"enum": ["low", "medium", "high"]},
                                   "user_location": {"type": "object"}},
                    "additionalProperties": False,
                },
            },
            "required": ["messages"],
            "additionalProperties": True,
            # The rules schemathesis can generate from; the others (RULES_IN_PROSE) are in the description.
            "allOf": [
                *parameter_rules(["none", "minimal"]),  # "minimal" maps to thinking off here
                # stream_options only with a stream.
                {"anyOf": [{"properties": {"stream_options": NULL}}, {"required": ["stream"], "properties": {"stream": {"const": True}}}]},
            ],
        },
        "ChatChoice": {
            "type": "object",
            "properties": {
                "index": {"type": "integer"},
                "message": {
                    "type": "object",
                    "properties": {
                        "role": {"const": "assistant"},
                        "content": {"type": ["string", "null"], "description": "a multimodal answer's text parts, joined"},
                        "reasoning_content": {"type": "string", "description": "what a thinking model thought"},
                        "tool_calls": {"type": "array", "items": {"type": "object"}},
                        "annotations": {"type": "array", "description": "with web search sources: a url_citation per "
                                        "citation marker in the content", "items": _ref("ChatUrlCitation")},
                    },
                    "required": ["role", "content"],
                },
                "finish_reason": {"type": ["string", "null"]},
                "logprobs": {"type": ["object", "null"], "properties": {"content": {"type": "array", "items": {"type": "object"}}}},
            },
            "required": ["index", "message", "finish_reason"],
        },
        "ChatUrlCitation": {
            "type": "object",
            "properties": {
                "type": {"const": "url_citation"},
                "url_citation": {
                    "type": "object",
                    "properties": {"url": {"type": "string"}, "title": {"type": "string"},
                                   "start_index": {"type": "integer"}, "end_index": {"type": "integer"}},
                    "required": ["url", "title", "start_index", "end_index"],
                },
            },
            "required": ["type", "url_citation"],
        },
        "ChatUsage": {
            "type": "object",
            "properties": {
                "prompt_tokens": {"type": "integer"},
                "completion_tokens": {"type": "integer"},
                "total_tokens": {"type": "integer"},
                "completion_tokens_details": {"type": "object", "properties": {"reasoning_tokens": {"type": "integer"}}},
                # As DashScope reports it (help.aliyun.com/zh/model-studio/context-cache).
                "prompt_tokens_details": {"type": "object", "properties": {
                    "cached_tokens": {"type": "integer"},
                    "cache_creation_input_tokens": {"type": "integer"},
                    "cache_creation": {"type": "object", "properties": {"ephemeral_5m_input_tokens": {"type": "integer"}}},
                    "cache_type": {"type": "string"},
                }},
            },
            "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
        },
        "ChatCompletion": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "object": {"const": "chat.completion"},
                "created": {"type": "integer"},
                "model": {"type": "string"},
                "choices": {"type": "array", "items": _ref("ChatChoice"), "description": "one, or `n`"},
                "usage": _ref("ChatUsage"),
                "search_info": {"type": "object", "description": "all of the web search's sources, as DashScope sent them"},
            },
            "required": ["id", "object", "created", "model", "choices", "usage"],
        },
    }
