"""OpenAI Chat Completions <-> DashScope, for the /v1 door.

Requests become a `GenerationCall`, checked by the same validators as /invoke (content parts for
the model's endpoint: core/openai_parts.py; OpenAI fields DashScope takes differently:
core/parameter_rules.py). Results and stream chunks become `chat.completion` and
`chat.completion.chunk` objects (handlers/openai/answers.py), and errors become OpenAI's error body (core/openai_shapes.py). Nothing a caller sends is silently dropped: a field DashScope cannot honour is a 400
that says so, unless its value is the neutral one that asks for nothing (`n: 1`, `logprobs: false`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.compatible_fields import DROPPED_WHEN_NEUTRAL, UNSUPPORTED, asks_for_nothing, max_tokens_of
from core.config import Config
from core.errors import InvalidRequest
from core.json_input import whole_numbers
from core.models import ModelRules, thinks_by_default
from core.openai_parts import dashscope_content
from core.parameter_rules import THINKING_AND_PASSTHROUGH_FIELDS, chat_parameters, map_temperature
from core.parameters import model_name, stream_switch, validate_messages, validate_parameters, with_call_defaults
from core.types import GenerationCall
from core.web_search import map_web_search_options


# Fields with a meaning we handle ourselves rather than pass through.
HANDLED = frozenset({"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens"})
# Who the end user is: recorded in the request's log line, not sent to DashScope (it has no such field).
END_USER_FIELDS = ("user", "safety_identifier")
END_USER_LOGGED_CHARS = 256  # on the log line, cut (marked): OpenAI sets no limit; a log line needs one
@dataclass(frozen=True)
class ChatRequest:
    call: GenerationCall
    stream: bool
    include_usage: bool
    end_user: str | None
    changes: tuple[str, ...] = ()  # what chat_parameters changed (thinking turned off, ...)

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
        elif name in DROPPED_WHEN_NEUTRAL and asks_for_nothing(value, DROPPED_WHEN_NEUTRAL[name]):
            continue
        elif name in UNSUPPORTED:
            neutral, instead = UNSUPPORTED[name]
            if not asks_for_nothing(value, neutral):
                raise InvalidRequest(f"`{name}` is not supported by DashScope: {instead}", param=name)
        else:
            # OpenAI fields DashScope shares (temperature, tools, ...) and DashScope's own extras
            # (top_k, enable_search, repetition_penalty, ...) go through as they are.
            parameters[name] = value

    parameters = whole_numbers(parameters)
    stream = stream_switch(body.get("stream"))
    options = body.get("stream_options")
    if options is not None:
        if not stream:
            raise InvalidRequest("`stream_options` is only allowed when `stream` is true", param="stream_options")
        if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
            raise InvalidRequest("`stream_options` must be {\"include_usage\": true|false}", param="stream_options")
    include_usage = bool((options or {}).get("include_usage", False))

    max_tokens = max_tokens_of(body)
    if max_tokens is not None:
        parameters["max_tokens"] = max_tokens
    multimodal = rules.takes_media(model)
    messages = _dashscope_messages(body.get("messages"), model, multimodal)
    parameters, search_notes = map_web_search_options(parameters)  # search on, with sources to cite
    # reasoning_effort, temperature 2, n/logprobs limits, thinking off for forced tools or JSON.
    if THINKING_AND_PASSTHROUGH_FIELDS.isdisjoint(parameters) and not thinks_by_default(model):
        parameters, changes = map_temperature(parameters), []  # nothing else can apply
    else:
        parameters, changes = chat_parameters(model, parameters, messages, rules)
    parameters = validate_parameters(parameters)
    if parameters.get("result_format", "message") != "message":
        raise InvalidRequest("this door always asks DashScope for messages; drop `result_format`", param="result_format")
    if stream and parameters.get("incremental_output") is False:
        raise InvalidRequest("OpenAI deltas are incremental; drop `incremental_output`", param="incremental_output")
    with_call_defaults(parameters, "message", stream)

    call = GenerationCall(model=model, messages=messages, parameters=parameters)
    changes = [*search_notes, *changes]
    return ChatRequest(call=call, stream=stream, include_usage=include_usage, end_user=end_user, changes=tuple(changes))
