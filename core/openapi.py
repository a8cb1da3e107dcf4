"""The OpenAPI 3.1 description of every route, served at GET /openapi.json.

Written once, here; tests/test_openapi.py keeps it true by running schemathesis against the live
function: every response must be one this document declares, in the declared shape.
"""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(schema_name: str, *statuses: int) -> dict[str, Any]:
    meaning = {
        400: "The request is invalid; the message names what is wrong",
        401: "INVOKE_TOKEN is set and no valid bearer token was sent, or DashScope refused the key",
        403: "DashScope refused access",
        404: "No such route, model or DashScope resource",
        405: "The route does not take this method",
        413: "The body is larger than MAX_BODY_BYTES",
        429: "Throttled by DashScope, or the instance is at MAX_IN_FLIGHT (see Retry-After)",
        500: "DashScope's internal error, or a bug here (the log line with the request id has it)",
        502: "DashScope could not be reached, or its stream broke",
        503: "DASHSCOPE_API_KEY is not set, or the model is unavailable",
        504: "DashScope sent nothing for UPSTREAM_TIMEOUT_S",
    }
    return {str(status): _json(_ref(schema_name), meaning[status]) for status in statuses}


CALL_ERRORS = (400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504)

PARAMETERS: dict[str, Any] = {
    "temperature": {"type": "number", "minimum": 0, "exclusiveMaximum": 2},
    "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "top_k": {"type": "integer", "minimum": 0},
    "max_tokens": {"type": "integer", "minimum": 1},
    "seed": {"type": "integer", "minimum": 0, "maximum": 2**64 - 1},
    "stop": {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
            {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}, "minItems": 1},
        ]
    },
    "repetition_penalty": {"type": "number", "exclusiveMinimum": 0},
    "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
    "enable_search": {"type": "boolean"},
    "result_format": {"enum": ["text", "message"]},
    "tools": {"type": "array", "minItems": 1, "items": _ref("Tool")},
    "tool_choice": {"oneOf": [{"enum": ["auto", "none"]}, _ref("NamedToolChoice")]},
    "response_format": {"type": "object", "properties": {"type": {"enum": ["text", "json_object", "json_schema"]}}, "required": ["type"]},
    "incremental_output": {"type": "boolean"},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "description": "Every error on /invoke, /health and the hooks. request_id is DashScope's when the failure came from DashScope.",
        "properties": {
            "status_code": {"type": "integer"},
            "request_id": {"type": "string"},
            "code": {"type": "string"},
            "message": {"type": "string"},
        },
        "required": ["status_code", "request_id", "code", "message"],
    },
    "OpenAIError": {
        "type": "object",
        "description": "Every error under /v1/, in OpenAI's shape.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": ["string", "null"]},
                },
                "required": ["message", "type", "param", "code"],
            }
        },
        "required": ["error"],
    },
    "Message": {
        "type": "object",
        "properties": {
            "role": {"enum": ["system", "user", "assistant", "tool"]},
            "content": {"type": ["string", "array", "null"], "items": {"type": "object"}},
            "tool_calls": {"type": "array", "items": {"type": "object"}},
            "tool_call_id": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["role"],
        "additionalProperties": True,
    },
    "Tool": {
        "type": "object",
        "properties": {
            "type": {"const": "function"},
            "function": {
                "type": "object",
                "properties": {"name": {"type": "string", "minLength": 1}, "description": {"type": "string"}, "parameters": {"type": "object"}},
                "required": ["name"],
            },
        },
        "required": ["type", "function"],
    },
    "NamedToolChoice": {
        "type": "object",
        "properties": {"type": {"const": "function"}, "function": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        "required": ["type", "function"],
    },
    "Parameters": {
        "type": "object",
        "description": "DashScope's generation parameters: known ones are checked, others pass through untouched.",
        "properties": PARAMETERS,
        "additionalProperties": True,
    },
    "FlatBody": {
        "description": "`messages` (messages mode) or `prompt` (prompt mode), with parameters beside them.",
        "allOf": [
            _ref("Parameters"),
            {
                "type": "object",
                "properties": {
                    "messages": {"type": "array", "minItems": 1, "items": _ref("Message")},
                    "prompt": {"type": "string", "minLength": 1},
                    "model": {"type": "string", "minLength": 1},
                    "stream": {"type": "boolean"},
                    "parameters": _ref("Parameters"),
                },
            },
        ],
    },
    "NativeBody": {
        "type": "object",
        "description": "DashScope's own HTTP body: a system that calls DashScope changes the URL and drops its key.",
        "properties": {
            "model": {"type": "string", "minLength": 1},
            "input": {
                "type": "object",
                "properties": {"messages": {"type": "array", "minItems": 1, "items": _ref("Message")}, "prompt": {"type": "string", "minLength": 1}},
            },
            "parameters": _ref("Parameters"),
            "stream": {"type": "boolean"},
        },
        "required": ["input"],
        "additionalProperties": False,
    },
    "Completion": {
        "type": "object",
        "description": "What the FC console shows for the official samples; request_id is DashScope's.",
        "properties": {
            "status_code": {"const": 200},
            "request_id": {"type": "string"},
            "code": {"type": "string"},
            "message": {"type": "string"},
            "output": {
                "type": "object",
                "properties": {
                    "text": {"type": ["string", "null"]},
                    "finish_reason": {"type": ["string", "null"]},
                    "choices": {"type": ["array", "null"], "items": {"type": "object"}},
                },
            },
            "usage": {"type": "object"},
        },
        "required": ["status_code", "request_id", "code", "message", "output", "usage"],
    },
    "ChatCompletionRequest": {
        "type": "object",
        "description": "OpenAI's Chat Completions request. Fields DashScope cannot honour are a 400; DashScope's own (top_k, enable_search, ...) are accepted.",
        "properties": {
            "model": {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "items": {"type": "object"}},
            "temperature": PARAMETERS["temperature"],
            "top_p": PARAMETERS["top_p"],
            "max_tokens": PARAMETERS["max_tokens"],
            "max_completion_tokens": PARAMETERS["max_tokens"],
            "seed": PARAMETERS["seed"],
            "stop": PARAMETERS["stop"],
            "presence_penalty": PARAMETERS["presence_penalty"],
            "tools": PARAMETERS["tools"],
            "tool_choice": PARAMETERS["tool_choice"],
            "response_format": PARAMETERS["response_format"],
            "stream": {"type": "boolean"},
            "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
            "user": {"type": "string"},
        },
        "required": ["messages"],
        "additionalProperties": True,
    },
    "ChatCompletion": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "object"}},
            "usage": {"type": "object"},
        },
        "required": ["id", "object", "created", "model", "choices", "usage"],
    },
    "Model": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "object": {"const": "model"}, "created": {"type": "integer"}, "owned_by": {"type": "string"}},
        "required": ["id", "object", "created", "owned_by"],
    },
    "ModelList": {"type": "object", "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": _ref("Model")}}, "required": ["object", "data"]},
    "Health": {
        "type": "object",
        "properties": {
            "status": {"const": "ok"},
            "api_key_configured": {"type": "boolean"},
            "upstream": {"enum": ["dashscope", "custom"]},
            "default_model": {"type": "string"},
            "invoke_mode": {"enum": ["messages", "prompt"]},
        },
        "required": ["status", "api_key_configured"],
    },
    "Status": {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]},
}

# One server-sent event, as a stream is read: DashScope's form on /invoke, OpenAI's on /v1/.
DASHSCOPE_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "event": {"enum": ["result", "error"]},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"anyOf": [_ref("Completion"), _ref("Error")]},
        },
    },
    "required": ["event", "data"],
}
OPENAI_EVENT = {
    "type": "object",
    "properties": {
        "data": {
            "type": "string",
            "description": "A chat.completion.chunk, an {\"error\": ...} object if the stream fails, or [DONE] at its end",
        }
    },
    "required": ["data"],
}


def _invoke_operation(mode: str | None) -> dict[str, Any]:
    fixed = f" The mode is fixed to {mode}: a JSON body carrying the other mode's field is a 400." if mode else ""
    return {
        "summary": f"Ask Qwen ({mode} mode)" if mode else "Ask Qwen; the mode comes from the body",
        "description": (
            "Raw text (what the FC console's test tab sends), flat JSON, or DashScope's native JSON. text/plain "
            "is always text; another non-JSON type is JSON when it is an object naming messages, prompt or input, "
            "and a 400 when it is shaped like an object ({...}) but does not parse."
        ) + fixed,
        "parameters": [
            {"name": "stream", "in": "query", "required": False, "schema": {"enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]}, "description": "Stream the answer as server-sent events"},
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"anyOf": [_ref("FlatBody"), _ref("NativeBody")]}},
                "text/plain": {"schema": {"type": "string", "minLength": 1}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        "responses": {
            "200": {
                "description": "The answer, or with stream: DashScope-shaped `event:result` chunks ending with a finish_reason (an `event:error` if the stream fails)",
                "content": {"application/json": {"schema": _ref("Completion")}, "text/event-stream": {"schema": DASHSCOPE_EVENT}},
            },
            **_errors("Error", *CALL_ERRORS),
        },
    }


def _simple(summary: str, schema: str, method_errors: tuple[int, ...] = (401, 405)) -> dict[str, Any]:
    return {"summary": summary, "responses": {"200": _json(_ref(schema), summary), **_errors("Error", *method_errors)}}


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
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ChatCompletionRequest")}}},
                    "responses": {
                        "200": {
                            "description": "A chat.completion, or with stream: `data: {chat.completion.chunk}` lines and `data: [DONE]`",
                            "content": {"application/json": {"schema": _ref("ChatCompletion")}, "text/event-stream": {"schema": OPENAI_EVENT}},
                        },
                        **_errors(*openai_errors),
                    },
                }
            },
            "/v1/models": {"get": {"summary": "The models this function serves", "responses": {"200": _json(_ref("ModelList"), "The models"), **_errors("OpenAIError", 401, 405)}}},
            "/v1/models/{model_id}": {
                "get": {
                    "summary": "One model",
                    "parameters": [{"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": _json(_ref("Model"), "The model"), **_errors("OpenAIError", 401, 404, 405)},
                }
            },
            "/health": {"get": _simple("Liveness and configuration; never calls DashScope", "Health", (405,))},
            "/initialize": {"post": _simple("FC's initializer hook", "Status", (405,))},
            "/pre-stop": {"get": _simple("FC's pre-stop hook: flushes the logs", "Status", (405,))},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/": {
                "get": {
                    "summary": "A page to try the function in a browser (when TRY_PAGE is on)",
                    "responses": {"200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}, **_errors("Error", 404, 405)},
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "One of the function's INVOKE_TOKEN values (needed only when it has some)"}},
        },
    }
