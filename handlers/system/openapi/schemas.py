"""The schemas of the OpenAPI document: bodies, answers, errors and stream events."""

from __future__ import annotations

from typing import Any

from core.parameters import MODEL_NAME_SCHEMA, parameters_json_schema
from handlers.system.openapi.bodies import EMBEDDING_DIMENSION, EMBEDDING_TEXTS, body_schemas
from handlers.system.openapi.chat import chat_schemas

REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_responses(schema_name: str, *statuses: int) -> dict[str, Any]:
    meaning = {
        400: "The request is invalid; the message names what is wrong",
        401: "INVOKE_TOKEN is set and no valid bearer token was sent, or DashScope refused the key",
        403: "DashScope refused access (its free quota is spent, with \"use free tier only\" on), or a caller's model list does",
        404: "No such route, model or DashScope resource",
        405: "The route does not take this method",
        413: "The body is larger than MAX_BODY_BYTES",
        429: "Throttled by DashScope (the error names its limit: RPM, TPM or a burst; Retry-After for RPM and TPM), a caller's limit, or the instance is at MAX_IN_FLIGHT",
        500: "DashScope's internal error, or a bug here (the log line with the request id has it)",
        502: "DashScope could not be reached, or its stream broke",
        503: "DASHSCOPE_API_KEY is not set, or the model is unavailable",
        504: "DashScope sent nothing for UPSTREAM_TIMEOUT_S",
    }
    return {str(status): json_response(ref(schema_name), meaning[status]) for status in statuses}


CALL_ERRORS = (400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504)

# The documented parameters and the schemas they refer to (Tool, NamedToolChoice, ...), made from
# core/parameters.py's definitions: validation and this document cannot disagree.
PARAMETERS, PARAMETER_DEFINITIONS = parameters_json_schema(REF)

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
    **PARAMETER_DEFINITIONS,
    **body_schemas(PARAMETERS),
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
    **chat_schemas(PARAMETERS),
    "Model": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "object": {"const": "model"}, "created": {"type": "integer"}, "owned_by": {"type": "string"}},
        "required": ["id", "object", "created", "owned_by"],
    },
    "ModelList": {"type": "object", "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": ref("Model")}}, "required": ["object", "data"]},
    "Health": {
        "type": "object",
        "properties": {
            "status": {"enum": ["ok", "degraded"], "description": "degraded: the caller store is down (the owner's token still works)"},
            "api_key_configured": {"type": "boolean"},
            "caller_store": {
                "type": "object",
                "description": "Only with REDIS_URL or CALLERS.",
                "properties": {"kind": {"enum": ["redis", "memory"]}, "status": {"enum": ["up", "down"]}},
            },
            "upstream": {"enum": ["dashscope", "custom"]},
            "default_model": {"type": "string"},
            "invoke_mode": {"enum": ["messages", "prompt"]},
            "doors": {"type": "array", "items": {"enum": ["invoke", "openai", "dashscope-native", "try-page"]}},
        },
        "required": ["status", "api_key_configured"],
    },
    "Status": {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]},
    # The DashScope-native door (/api/v1/...): DashScope's own bodies and answers.
    "NativeError": {
        "type": "object",
        "description": "Every error under /api/v1/, in DashScope's shape (what its SDKs read).",
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "request_id": {"type": "string"}},
        "required": ["code", "message", "request_id"],
    },
    "NativeAnswer": {
        "type": "object",
        "description": "DashScope's answer: its output, usage and request id, as DashScope sent them.",
        "properties": {"output": {"type": "object"}, "usage": {"type": "object"}, "request_id": {"type": "string"}},
        "required": ["output", "usage", "request_id"],
    },
    "EmbeddingsRequest": {
        "type": "object",
        "description": "OpenAI's Embeddings request; `input` is text (token arrays are a 400).",
        "properties": {
            "model": MODEL_NAME_SCHEMA,
            "input": EMBEDDING_TEXTS,
            "encoding_format": {"enum": ["float", "base64", "", None], "description": "float when empty or null"},
            "dimensions": EMBEDDING_DIMENSION,
            "user": {"type": ["string", "null"]},
        },
        "required": ["model", "input"],
        "additionalProperties": False,
    },
    "EmbeddingList": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": {"type": "object", "properties": {"object": {"const": "embedding"}, "index": {"type": "integer"}, "embedding": {"type": ["array", "string"]}}, "required": ["object", "index", "embedding"]}},
            "model": {"type": "string"},
            "usage": {"type": "object"},
        },
        "required": ["object", "data", "model", "usage"],
    },
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
            "contentSchema": {"anyOf": [ref("Completion"), ref("Error")]},
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
NATIVE_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "event": {"enum": ["result", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"anyOf": [ref("NativeAnswer"), ref("NativeError")]}},
    },
    "required": ["event", "data"],
}
