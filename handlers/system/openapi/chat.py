"""The OpenAPI schemas of the /v1 door: OpenAI's Chat Completions request (with content parts and
the fields issue 12 added), and its answers (choices with reasoning, tool calls, logprobs)."""

from __future__ import annotations

from typing import Any

from core.parameters import MODEL_NAME_SCHEMA

REF = "#/components/schemas/"
OPENAI_TEMPERATURE = {"type": "number", "minimum": 0, "maximum": 2,
                      "description": "OpenAI's range; 2 is sent to DashScope as 1.99 (DashScope's range is [0, 2))"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _part(kind: str, value: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": {"type": {"const": kind}, kind: value},
            "required": ["type", kind], "additionalProperties": True}


URL = {"type": "string", "description": "an http(s):// or data: URL (never a local path: a 400)"}
CONTENT_PARTS = {
    "ChatTextPart": _part("text", {"type": "string"}, "Text; every model"),
    "ChatImagePart": _part("image_url", {"type": "object", "properties": {"url": URL, "detail": {"type": "string"}}, "required": ["url"]},
                           "An image; multimodal models only (VL, omni, QVQ, Qwen 3.5+), a 400 naming the model otherwise"),
    "ChatAudioPart": _part("input_audio", {"type": "object", "properties": {"data": {"type": "string"}, "format": {"type": "string"}},
                                           "required": ["data"]}, "Audio (base64 with its format, or a URL); multimodal models only"),
    "ChatVideoPart": _part("video_url", {"type": "object", "properties": {"url": URL}, "required": ["url"]}, "A video; multimodal models only"),
}


def chat_schemas(parameters: dict[str, Any]) -> dict[str, Any]:
    """The /v1 schemas; `parameters` are core/parameters.py's documented parameters (as OpenAPI)."""
    shared = ("top_p", "seed", "stop", "presence_penalty", "tools", "tool_choice", "response_format", "enable_thinking",
              "thinking_budget", "reasoning_effort", "n", "logprobs", "top_logprobs", "parallel_tool_calls",
              "search_options", "translation_options")
    return {
        **CONTENT_PARTS,
        "ChatMessage": {
            "type": "object",
            "properties": {
                "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
                "content": {"oneOf": [{"type": "string"}, {"type": "null"},
                                      {"type": "array", "items": {"anyOf": [_ref(name) for name in CONTENT_PARTS]}}]},
                "tool_calls": {"type": "array", "items": {"type": "object"}},
                "tool_call_id": {"type": "string"},
                "partial": {"type": "boolean", "description": "on the last assistant message: partial mode (the answer continues it)"},
            },
            "required": ["role"],
            "additionalProperties": True,
        },
        "ChatCompletionRequest": {
            "type": "object",
            "description": "OpenAI's Chat Completions request. Fields DashScope cannot honour are a 400; DashScope's own "
                           "(top_k, enable_search, enable_thinking, ...) are accepted. reasoning_effort maps to enable_thinking "
                           "and thinking_budget (README). Forced tool use, JSON output and partial mode turn a model's default "
                           "thinking off.",
            "properties": {
                "model": MODEL_NAME_SCHEMA,
                "messages": {"type": "array", "minItems": 1, "items": _ref("ChatMessage")},
                "temperature": OPENAI_TEMPERATURE,
                "max_tokens": parameters["max_tokens"],
                "max_completion_tokens": parameters["max_tokens"],
                **{name: parameters[name] for name in shared},
                "stream": {"type": "boolean"},
                "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
                "user": {"type": "string"},
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
