"""The OpenAPI schemas of the request bodies on /invoke and the DashScope-native door: what the
parsers check, said in JSON Schema, so that a body the document calls valid is one the function
takes (schemathesis's positive_data_acceptance check, tests/server/test_openapi.py).

The rules across fields are here too: one mode per body (`messages` or `prompt`), a parameter given
once (at the top or in `parameters`), content on every message but an assistant's with tool calls,
`top_logprobs` with `logprobs`, `n` > 1 without `tools`, `tools` with the message format, and no
SDK control argument (core/parameters.py's SDK_CONTROL_ARGUMENTS) among the parameters. Which
model names DashScope serves is DashScope's to say: a `model` here is any plausible name.
"""

from __future__ import annotations

from typing import Any

from core.dashscope_wire import FLAT_FIELDS
from core.parameters import MODEL_NAME_SCHEMA, SDK_CONTROL_ARGUMENTS

REF = "#/components/schemas/"
# At least one character Python's str.strip() keeps: a blank name or text is a 400.
NON_BLANK_PATTERN = "[^\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
NON_BLANK = {"type": "string", "pattern": NON_BLANK_PATTERN}
# A plausible model name (core/parameters.py's check), or null: the function's default model.
MODEL = {**MODEL_NAME_SCHEMA, "type": ["string", "null"]}
STREAM = {"type": ["boolean", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def has(field: str) -> dict[str, Any]:
    """A body that carries `field`, not null."""
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


# Messages mode or prompt mode: one of the two given, the other absent or null. (Said without
# `not`: schemathesis cannot generate from a `oneOf` of them beside the rules' `not`.)
MESSAGES_MODE = {"required": ["messages"], "properties": {"messages": {"type": "array"}, "prompt": {"type": "null"}}}
PROMPT_MODE = {"required": ["prompt"], "properties": {"prompt": {"type": "string"}, "messages": {"type": "null"}}}
EITHER_MODE = {"anyOf": [MESSAGES_MODE, PROMPT_MODE]}


def message_schema(roles: list[str], content: dict[str, Any], non_assistant_content: dict[str, Any]) -> dict[str, Any]:
    """A message: an assistant's needs `content` (not null) or `tool_calls`; every other role's needs
    content that is not empty (core/parameters.py's `_Message`)."""
    others = [role for role in roles if role != "assistant"]
    return {
        "type": "object",
        "properties": {
            "role": {"enum": roles},
            "content": content,
            "tool_calls": {"type": ["array", "null"], "items": {"type": "object"}},
        },
        "required": ["role"],
        "additionalProperties": True,
        "anyOf": [
            {"properties": {"role": {"const": "assistant"}, "content": {"type": ["string", "array"]}}, "required": ["content"]},
            {"properties": {"role": {"const": "assistant"}, "tool_calls": {"type": "array", "minItems": 1}}, "required": ["tool_calls"]},
            {"properties": {"role": {"enum": others}, "content": non_assistant_content}, "required": ["content"]},
        ],
    }


MESSAGE = message_schema(
    ["system", "user", "assistant", "tool"],
    {
        "type": ["string", "array", "null"],
        "items": {"type": "object"},
        "description": "a string, or DashScope's parts ({\"text\"}, {\"image\"}, {\"video\"}, {\"audio\"}: http(s):// or "
                       "data: URLs only) for multimodal models",
    },
    {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "minItems": 1}]},
)

# Rules across parameters (core/parameter_rules.py's check_passthrough and
# resolve_thinking_conflicts, core/dashscope_wire.py), each said as what a body may be: schemathesis
# cannot generate from a `not` beside the modes' `anyOf`.
_NULL = {"type": "null"}  # absent or null: what the parsers read as not given


def thinking_not_asked(efforts_off: list[str]) -> dict[str, Any]:
    """The call does not ask for thinking (core/models.py's explicit_thinking is not True)."""
    return {"anyOf": [
        {"required": ["enable_thinking"], "properties": {"enable_thinking": {"const": False}}},
        {"required": ["reasoning_effort"], "properties": {"enable_thinking": _NULL, "reasoning_effort": {"enum": efforts_off}}},
        {"properties": {"enable_thinking": _NULL, "reasoning_effort": _NULL, "thinking_budget": _NULL}},
    ]}


# Neither forced tool use nor JSON output (DashScope refuses both while the model thinks).
NOTHING_REFUSED_WHILE_THINKING = {"properties": {
    "tool_choice": {"enum": ["auto", "none", None]},
    "response_format": {"anyOf": [_NULL, {"type": "object", "properties": {"type": {"const": "text"}}}]},
}}


def parameter_rules(efforts_off: list[str]) -> list[dict[str, Any]]:
    return [
        # `n` > 1 and `tools`: DashScope would return one choice.
        {"anyOf": [{"properties": {"n": {"maximum": 1}}}, {"properties": {"tools": {"maxItems": 0}}}]},
        # `top_logprobs` needs `logprobs: true`.
        {"anyOf": [{"properties": {"top_logprobs": {"maximum": 0}}}, {"required": ["logprobs"], "properties": {"logprobs": {"const": True}}}]},
        # Forced tools or JSON output while the call asks for thinking.
        {"anyOf": [thinking_not_asked(efforts_off), NOTHING_REFUSED_WHILE_THINKING]},
    ]


# `tools` need the message format (/invoke and the native door).
TOOLS_WITH_MESSAGES = {"anyOf": [{"properties": {"tools": {"maxItems": 0}}}, {"properties": {"result_format": {"enum": ["message", None]}}}]}


# DashScope's own limits for text-embedding-v3/v4 (its 400s otherwise): at most 10 texts a call, and
# one of these dimensions.
EMBEDDING_TEXTS = {"anyOf": [NON_BLANK, {"type": "array", "minItems": 1, "maxItems": 10, "items": NON_BLANK}]}
EMBEDDING_DIMENSION = {"enum": [2048, 1536, 1024, 768, 512, 256, 128, 64, None]}


def _not_named(names: frozenset[str]) -> dict[str, Any]:
    return {"not": {"enum": sorted(names)}}


# What JSON Schema cannot say here (schemathesis could not generate from it): a parameter is given
# once, and the rules across parameters hold for the two places together (tests/server/test_openapi.py
# sends the top-level form).
FLAT_PARAMETERS = (", with parameters beside them, or in `parameters`: each parameter given once (at the top level or in "
                   "`parameters`, never both: a 400), the rules across parameters holding for both places together.")


# /invoke takes both shapes (anyOf), and schemathesis cannot generate from that with the rules in both.
ON_INVOKE = " The rules across `parameters` are NativeBody's (the native door's), said there."


def body_schemas(parameters: dict[str, Any]) -> dict[str, Any]:
    """The /invoke and native bodies; `parameters` are core/parameters.py's (as OpenAPI)."""
    nested = {
        "type": "object",
        "description": "DashScope's generation parameters: known ones are checked, others pass through untouched.",
        "properties": parameters,
        # `stream` is read from here too (the body's own wins), and taken out before the check.
        "propertyNames": _not_named(SDK_CONTROL_ARGUMENTS - {"stream"}),
        "additionalProperties": True,
    }
    rules = [*parameter_rules(["none"]), TOOLS_WITH_MESSAGES]
    flat_parameters = {**nested, "propertyNames": _not_named(SDK_CONTROL_ARGUMENTS - FLAT_FIELDS), "allOf": rules}
    messages = {"type": ["array", "null"], "minItems": 1, "items": _ref("Message")}
    prompt = {"type": ["string", "null"], "minLength": 1}

    def flat(description: str, modes: dict[str, Any]) -> dict[str, Any]:
        return {
            "description": description,
            "allOf": [
                flat_parameters,
                {
                    "type": "object",
                    "properties": {"messages": messages, "prompt": prompt, "model": MODEL, "stream": STREAM, "parameters": _ref("Parameters"),
                                   "input": False},  # a body with `input` is DashScope-native
                },
                modes,
            ],
        }

    def native(description: str, modes: dict[str, Any], checked: bool = True) -> dict[str, Any]:
        return {
            "type": "object",
            "description": description,
            "properties": {
                "model": MODEL,
                "input": {"type": "object", "properties": {"messages": messages, "prompt": prompt}, "allOf": [modes],
                          "additionalProperties": False},
                "parameters": {"allOf": [_ref("Parameters"), *rules]} if checked else _ref("Parameters"),
                "stream": STREAM,
            },
            "required": ["input"],
            "additionalProperties": False,
        }

    native_description = "DashScope's own HTTP body: a system that calls DashScope changes the URL and drops its key."
    return {
        "Message": MESSAGE,
        "Parameters": nested,
        "FlatBody": flat("`messages` (messages mode) or `prompt` (prompt mode)" + FLAT_PARAMETERS, EITHER_MODE),
        "FlatMessagesBody": flat("`messages`" + FLAT_PARAMETERS, MESSAGES_MODE),
        "FlatPromptBody": flat("`prompt`" + FLAT_PARAMETERS, PROMPT_MODE),
        "NativeBody": native(native_description, EITHER_MODE),
        "NativeMessagesBody": native(native_description + ON_INVOKE, MESSAGES_MODE, checked=False),
        "NativePromptBody": native(native_description + ON_INVOKE, PROMPT_MODE, checked=False),
        "InvokeNativeBody": native(native_description + ON_INVOKE, EITHER_MODE, checked=False),
        "NativeTokenizerBody": {
            "type": "object",
            "description": "Tokenization's body: a generation body whose parameters are not used. The tokenizer knows Qwen models only.",
            "properties": {
                "model": {**MODEL, "allOf": [{"pattern": "^[Qq][Ww][Ee][Nn]"}]},
                "input": {"type": "object", "properties": {"messages": messages, "prompt": prompt}, "allOf": [EITHER_MODE]},
                "parameters": {"type": "object", "propertyNames": _not_named(SDK_CONTROL_ARGUMENTS)},
            },
            "required": ["input"],
        },
        "NativeTextsBody": {
            "type": "object",
            "description": "TextEmbedding's body.",
            "properties": {
                "model": MODEL_NAME_SCHEMA,
                "input": {"type": "object", "properties": {"texts": EMBEDDING_TEXTS}, "required": ["texts"]},
                "parameters": {
                    "type": "object",
                    "properties": {"dimension": EMBEDDING_DIMENSION, **{name: {"type": ["string", "null"]} for name in ("text_type", "output_type", "instruct")}},
                    "propertyNames": _not_named(SDK_CONTROL_ARGUMENTS),
                },
            },
            "required": ["model", "input"],
        },
    }
