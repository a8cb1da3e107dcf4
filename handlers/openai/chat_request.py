"""OpenAI Chat Completions <-> DashScope, for the /v1 door.

Requests become a `GenerationCall`, checked by the same validators as /invoke (content parts for
the model's endpoint: handlers/openai/parts.py; OpenAI fields DashScope takes differently:
core/parameter_rules.py). Results and stream chunks become `chat.completion` and
`chat.completion.chunk` objects (handlers/openai/answers.py), and errors become OpenAI's error body. Nothing a caller sends is silently dropped: a field DashScope cannot honour is a 400
that says so, unless its value is the neutral one that asks for nothing (`n: 1`, `logprobs: false`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config import Config
from core.errors import ApiError, InvalidRequest, UpstreamQuotaExhausted, UpstreamThrottled
from core.models import ModelRules, thinks_by_default
from core.parameter_rules import THINKING_AND_PASSTHROUGH_FIELDS, map_temperature, openai_door_parameters
from handlers.openai.parts import dashscope_content
from core.parameters import model_name, stream_switch, validate_messages, validate_parameters, with_call_defaults
from core.types import GenerationCall
from core.web_search import map_web_search_options

# Fields with a meaning we handle ourselves rather than pass through.
HANDLED = frozenset({"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens"})
# Who the end user is: recorded in the request's log line, not sent to DashScope (it has no such field).
END_USER_FIELDS = ("user", "safety_identifier")
END_USER_LOGGED_CHARS = 256  # on the log line, cut (marked): OpenAI sets no limit; a log line needs one
# OpenAI fields DashScope has no equivalent for -> (values that ask for nothing, what to do instead).
UNSUPPORTED: dict[str, tuple[tuple[Any, ...], str]] = {
    "frequency_penalty": ((0,), "DashScope has `presence_penalty`, and `repetition_penalty` as an extra body field"),
    "logit_bias": (({},), "DashScope has no logit bias"),
    "functions": ((), "use `tools`"),
    "function_call": ((), "use `tool_choice`"),
    "audio": ((), "DashScope's Qwen models answer in text here; audio output is not served"),
    "modalities": ((["text"],), "DashScope's Qwen models answer in text here; audio output is not served"),
    "prediction": ((), "DashScope has no predicted outputs"),
    "verbosity": ((), "DashScope has no verbosity setting"),
    "store": ((False,), "completions are not stored"),
    "metadata": (({},), "completions are not stored, so there is nothing to attach metadata to"),
    "service_tier": (("auto", "default"), "DashScope has no service tiers"),
    "prompt_cache_key": ((), "DashScope caches prompts on its own; there is no key to set"),
    "prompt_cache_options": ((), "DashScope caches prompts on its own"),
    "prompt_cache_retention": ((), "DashScope caches prompts on its own"),
    "moderation": ((), "DashScope moderates on its own"),
}
# Fields DashScope takes, dropped when their value asks for nothing (what DashScope does anyway), so
# that a call which does not use them reaches DashScope exactly as before (not every model takes `n`).
DROPPED_WHEN_NEUTRAL: dict[str, tuple[Any, ...]] = {"n": (1,), "logprobs": (False,), "top_logprobs": (0,)}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
}
# DashScope's limits (core/upstream/limits.py) as OpenAI names them: OpenAI's own code for a rate limit,
# with its `type` naming the limit ("requests", "tokens", as OpenAI's own 429s do), or its code and type
# for a spent quota (clients stop retrying).
OPENAI_LIMITS = {
    "rpm": ("rate_limit_exceeded", "requests"),
    "tpm": ("rate_limit_exceeded", "tokens"),
    "burst": ("rate_limit_exceeded", "burst_rate"),
    "throttling": ("rate_limit_exceeded", "rate_limit_exceeded"),
    "free_quota": ("insufficient_quota", "insufficient_quota"),
    "billing": ("insufficient_quota", "insufficient_quota"),
}


@dataclass(frozen=True)
class ChatRequest:
    call: GenerationCall
    stream: bool
    include_usage: bool
    end_user: str | None
    changes: tuple[str, ...] = ()  # what openai_door_parameters changed (thinking turned off, ...)

    def log_fields(self) -> dict[str, Any]:
        user, limit = self.end_user, END_USER_LOGGED_CHARS
        user = f"{user[:limit]}…(cut: {len(user)} chars)" if user is not None and len(user) > limit else user
        fields = {"door": "openai", "model": self.call.model, "stream": self.stream, "user": user}
        if self.changes:
            fields["parameters_changed"] = list(self.changes)
        return fields


def _tool_call_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidRequest(f"`{path}` must be a list of tool-call objects", param=path)
    return value


def _optional_string(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequest(f"`{path}` must be a string", param=path)
    return value


def _dashscope_messages(messages: Any, model: str, multimodal: bool) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        raise InvalidRequest("`messages` must be a list of message objects", param="messages")
    tool_names: dict[str, str] = {}
    converted = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequest(f"`messages[{index}]` must be an object", param=f"messages[{index}]")
        message = dict(message)
        if message.get("role") == "developer":
            message["role"] = "system"  # OpenAI's newer name for the system role
        if "content" in message:
            message["content"] = dashscope_content(message["content"], f"messages[{index}].content", model, multimodal)
        if message.get("role") == "assistant" and message.get("tool_calls"):
            for position, call in enumerate(_tool_call_list(message["tool_calls"], f"messages[{index}].tool_calls")):
                if isinstance(call, dict) and isinstance(call.get("function"), dict):
                    call_id = _optional_string(call.get("id", ""), f"messages[{index}].tool_calls[{position}].id")
                    tool_names[call_id] = call["function"].get("name", "")
            if message.get("content") is None:
                message["content"] = ""
        if message.get("role") == "tool" and "name" not in message:
            # DashScope wants the function's name on a tool message; OpenAI only sends the call id.
            name = tool_names.get(_optional_string(message.get("tool_call_id", ""), f"messages[{index}].tool_call_id"))
            if name:
                message["name"] = name
        converted.append(message)
    return validate_messages(converted)


def _asks_for_nothing(value: Any, neutral: tuple[Any, ...]) -> bool:
    # Compared with bool kept apart from int: `n: true` is not `n: 1`, `logprobs: 0` not `false`.
    return any(value == n and isinstance(value, bool) == isinstance(n, bool) for n in neutral)


def openai_fields_for_dashscope(parameters: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's names in a DashScope call (/invoke): `max_completion_tokens` becomes `max_tokens`, and
    a field DashScope cannot honour (UNSUPPORTED) is refused as /v1 refuses it, never passed on."""
    if not parameters:  # raw text and plain bodies: nothing to convert
        return parameters
    if "web_search_options" in parameters:
        parameters, _notes = map_web_search_options(parameters)
    for name, value in parameters.items():
        if name in UNSUPPORTED and value is not None:
            neutral, instead = UNSUPPORTED[name]
            if not _asks_for_nothing(value, neutral):
                raise InvalidRequest(f"`{name}` is not supported by DashScope: {instead}", param=name)
    neutral = {
        name for name in DROPPED_WHEN_NEUTRAL.keys() & parameters.keys()
        if _asks_for_nothing(parameters[name], DROPPED_WHEN_NEUTRAL[name])
    }
    if "max_completion_tokens" not in parameters and not UNSUPPORTED.keys() & parameters.keys() and not neutral:
        return parameters
    converted = {name: value for name, value in parameters.items() if name not in UNSUPPORTED and name not in neutral}
    max_tokens = _max_tokens(converted)
    converted.pop("max_completion_tokens", None)
    if max_tokens is not None:
        converted["max_tokens"] = max_tokens
    return converted


def _max_tokens(body: dict[str, Any]) -> Any:
    legacy, current = body.get("max_tokens"), body.get("max_completion_tokens")
    if legacy is not None and current is not None and legacy != current:
        raise InvalidRequest(
            "`max_tokens` and `max_completion_tokens` disagree; send one of them", param="max_completion_tokens"
        )
    if current is not None and (type(current) is not int or current < 1):  # named as sent (bool is no int here)
        raise InvalidRequest(f"`max_completion_tokens` must be at least 1, got {current!r}", param="max_completion_tokens")
    return current if current is not None else legacy


def parse_chat_request(body: Any, config: Config, rules: ModelRules | None = None) -> ChatRequest:
    """An OpenAI Chat Completions body -> the call to make. Raises InvalidRequest naming the field.
    `rules` (the app's, built once) say which endpoint serves the model: its content parts follow."""
    rules = rules or ModelRules.from_config(config)
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object (an OpenAI Chat Completions request)")
    if isinstance(body.get("input"), dict) and "messages" not in body:
        raise InvalidRequest(
            "this is a DashScope-native body (`input`, `parameters`): send it to POST /invoke, or send an "
            "OpenAI Chat Completions request with `messages` here",
            param="input",
        )
    model = model_name(body.get("model"), config.default_model)

    parameters: dict[str, Any] = {}
    end_user = None
    for name, value in body.items():
        if name in HANDLED or value is None:
            continue
        if name in END_USER_FIELDS:
            if not isinstance(value, str):
                raise InvalidRequest(f"`{name}` must be a string", param=name)
            end_user = value
        elif name in DROPPED_WHEN_NEUTRAL and _asks_for_nothing(value, DROPPED_WHEN_NEUTRAL[name]):
            continue
        elif name in UNSUPPORTED:
            neutral, instead = UNSUPPORTED[name]
            if not _asks_for_nothing(value, neutral):
                raise InvalidRequest(f"`{name}` is not supported by DashScope: {instead}", param=name)
        else:
            # OpenAI fields DashScope shares (temperature, tools, ...) and DashScope's own extras
            # (top_k, enable_search, repetition_penalty, ...) go through as they are.
            parameters[name] = value

    stream = stream_switch(body.get("stream"))
    options = body.get("stream_options")
    if options is not None:
        if not stream:
            raise InvalidRequest("`stream_options` is only allowed when `stream` is true", param="stream_options")
        if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
            raise InvalidRequest("`stream_options` must be {\"include_usage\": true|false}", param="stream_options")
    include_usage = bool((options or {}).get("include_usage", False))

    max_tokens = _max_tokens(body)
    if max_tokens is not None:
        parameters["max_tokens"] = max_tokens
    multimodal = rules.takes_media(model)
    messages = _dashscope_messages(body.get("messages"), model, multimodal)
    parameters, search_notes = map_web_search_options(parameters)  # search on, with sources to cite
    # reasoning_effort, temperature 2, n/logprobs limits, thinking off for forced tools or JSON.
    if THINKING_AND_PASSTHROUGH_FIELDS.isdisjoint(parameters) and not thinks_by_default(model):
        parameters, changes = map_temperature(parameters), []  # nothing else can apply
    else:
        parameters, changes = openai_door_parameters(model, parameters, messages, rules)
    parameters = validate_parameters(parameters)
    if parameters.get("result_format", "message") != "message":
        raise InvalidRequest("this door always asks DashScope for messages; drop `result_format`", param="result_format")
    if stream and parameters.get("incremental_output") is False:
        raise InvalidRequest("OpenAI deltas are incremental; drop `incremental_output`", param="incremental_output")
    with_call_defaults(parameters, "message", stream)

    call = GenerationCall(model=model, messages=messages, parameters=parameters)
    changes = [*search_notes, *changes]
    return ChatRequest(call=call, stream=stream, include_usage=include_usage, end_user=end_user, changes=tuple(changes))


def openai_error_body(error: ApiError, _request_id: str) -> dict[str, Any]:
    """OpenAI's error shape (it has no place for a request id: that is in the X-Request-Id header)."""
    if isinstance(error, (UpstreamThrottled, UpstreamQuotaExhausted)):
        code, kind = OPENAI_LIMITS[error.limit]
        return {"error": {"message": error.message, "type": kind, "param": None, "code": code}}
    code = error.openai_code or error.code
    status = openai_error_status(error)
    status_type = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    if code == "insufficient_quota":  # OpenAI's own type for a spent quota (clients stop retrying)
        status_type = "insufficient_quota"
    elif code == "model_not_found":  # OpenAI's own pairing: a 404 of type invalid_request_error
        status_type = "invalid_request_error"
    return {"error": {"message": error.message, "type": status_type, "param": error.param, "code": code}}


def openai_error_status(error: ApiError) -> int:
    """The status OpenAI's clients expect for `error` (a model DashScope does not know: 404)."""
    return error.openai_status or error.status
