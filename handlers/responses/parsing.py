"""A Responses API request (`POST /v1/responses`) -> the neutral `GenerationCall`.

Mapped: `input` (handlers/responses/items.py) after the stored conversation of
`previous_response_id`, `instructions` (a system message first), function `tools` and `tool_choice`,
`parallel_tool_calls`, `reasoning.effort` (as /v1's `reasoning_effort`: core/parameter_rules.py),
`text.format` (json_schema / json_object, as /v1's `response_format`), `max_output_tokens`,
`temperature`, `top_p`; the `web_search` tool turns DashScope's search on (core/web_search.py).
Echoed and kept: `metadata`, `user`, `store`. Accepted, with nothing to change in the answer: the
fields agents send (`include`, `prompt_cache_key`, ...). Anything else is a 400 naming it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from core.config import Config
from core.errors import InvalidRequest
from core.json_input import whole_numbers
from core.models import ModelRules
from core.parameter_rules import chat_parameters
from core.parameters import model_name, stream_switch, validate_parameters, with_call_defaults
from core.types import GenerationCall
from core.web_search import map_web_search_options
from handlers.responses.items import checked_messages, input_messages
from handlers.responses.tools import function_tools, tool_choice

# Accepted and not sent: they do not change the answer DashScope gives (caching, logging, tiers).
ACCEPTED = frozenset({
    "include", "prompt_cache_key", "prompt_cache_retention", "client_metadata", "safety_identifier",
    "service_tier", "stream_options", "truncation", "prompt_cache_options",
})
# DashScope's own generation fields, as /v1 passes them (extra_body in the openai client).
DASHSCOPE_FIELDS = frozenset({
    "top_k", "seed", "presence_penalty", "repetition_penalty", "stop", "enable_thinking", "thinking_budget",
    "enable_search", "search_options",
})
# Responses fields this door does not serve, and what to do instead.
REFUSED = {
    "background": (False, "background responses are not served here: send the request and wait, or stream it"),
    "conversation": (None, "conversations are not served here: use `previous_response_id`"),
    "prompt": (None, "stored prompt templates are OpenAI's: send `instructions` and `input`"),
    "max_tool_calls": (None, "DashScope has no limit on built-in tool calls"),
    "top_logprobs": (0, "log probabilities are not served on this door: use /v1/chat/completions"),
    "context_management": (None, "context management is OpenAI's: send the conversation you want kept"),
    "moderation": (None, "DashScope moderates on its own"),
}
HANDLED = frozenset({
    "model", "input", "instructions", "stream", "tools", "tool_choice", "parallel_tool_calls", "reasoning",
    "text", "max_output_tokens", "temperature", "top_p", "metadata", "user", "store", "previous_response_id",
})
MAX_METADATA_KEYS = 16
USER_LOGGED_CHARS = 256


@dataclass(frozen=True)
class ResponsesRequest:
    call: GenerationCall
    stream: bool
    response_id: str
    store: bool
    # What the answer repeats of the request (instructions, tools, metadata, ...): OpenAI's Response echoes them.
    echo: dict[str, Any]
    # The conversation so far (the previous response's and this input), as Responses items.
    history: list[Any] = field(default_factory=list)
    # The namespace of each function tool that came in one (a call to it names it again).
    namespaces: dict[str, str] = field(default_factory=dict)
    changes: tuple[str, ...] = ()

    def log_fields(self) -> dict[str, Any]:
        user = self.echo.get("user")
        if isinstance(user, str) and len(user) > USER_LOGGED_CHARS:
            user = f"{user[:USER_LOGGED_CHARS]}…(cut: {len(user)} chars)"
        fields = {"door": "responses", "model": self.call.model, "stream": self.stream, "user": user}
        if self.changes:
            fields["parameters_changed"] = list(self.changes)
        return fields


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"`{path}` must be an object", param=path)
    return value


def _text_format(text: Any) -> dict[str, Any] | None:
    """`text.format` -> DashScope's `response_format` (None: plain text)."""
    text = _object(text, "text")
    verbosity = text.get("verbosity")
    if verbosity not in (None, "medium"):
        raise InvalidRequest("`text.verbosity` is not supported by DashScope (it has no verbosity setting)",
                             param="text.verbosity")
    found = text.get("format")
    if found is None:
        return None
    found = _object(found, "text.format")
    kind = found.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = {key: found[key] for key in ("name", "schema", "strict", "description") if key in found}
        if not isinstance(schema.get("schema"), dict):
            raise InvalidRequest("`text.format.schema` must be a JSON schema object", param="text.format.schema")
        return {"type": "json_schema", "json_schema": schema}
    raise InvalidRequest("`text.format.type` must be text, json_object or json_schema", param="text.format.type")


def _metadata(value: Any) -> dict[str, str]:
    metadata = _object(value, "metadata")
    if len(metadata) > MAX_METADATA_KEYS or not all(isinstance(v, str) for v in metadata.values()):
        raise InvalidRequest(f"`metadata` must be at most {MAX_METADATA_KEYS} string values", param="metadata")
    return metadata


def _check_fields(body: dict[str, Any]) -> None:
    for name, value in body.items():
        if name in HANDLED or name in ACCEPTED or name in DASHSCOPE_FIELDS:
            continue
        if name in REFUSED:
            neutral, instead = REFUSED[name]
            if value is None or value == neutral:
                continue
            raise InvalidRequest(f"`{name}` is not supported here: {instead}", param=name)
        raise InvalidRequest(
            f"`{name}` is not a field this door knows (OpenAI's Responses API, as DashScope can serve it)", param=name
        )


def parse_responses_request(
    body: Any, config: Config, rules: ModelRules, previous: dict[str, Any] | None = None
) -> ResponsesRequest:
    """A Responses body -> the call to make. `previous` is the stored record of `previous_response_id`
    (the door looks it up: it belongs to the caller). Raises InvalidRequest naming the field."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object (an OpenAI Responses request)")
    _check_fields(body)
    model = model_name(body.get("model"), config.default_model)
    stream = stream_switch(body.get("stream"))
    store = body.get("store", True)
    if not isinstance(store, bool):
        raise InvalidRequest("`store` must be true or false", param="store")
    if body.get("input") is None:
        raise InvalidRequest("`input` is required: a string, or a list of input items", param="input")
    items = body["input"] if isinstance(body["input"], list) else [
        {"type": "message", "role": "user", "content": body["input"]}]
    earlier = (previous or {}).get("conversation", [])
    history = [*earlier, *items]

    multimodal = rules.takes_media(model)
    messages, paths = input_messages(history, model, multimodal, first=len(earlier))
    if isinstance(body["input"], str):
        paths[-1] = "input"  # the one message it is
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise InvalidRequest("`instructions` must be a string", param="instructions")
    if instructions:  # empty instructions say nothing (DashScope refuses an empty system message)
        messages.insert(0, {"role": "system", "content": instructions})
        paths.insert(0, "instructions")
    messages = checked_messages(messages, paths)

    parameters: dict[str, Any] = {name: body[name] for name in DASHSCOPE_FIELDS if body.get(name) is not None}
    tools, search, namespaces = function_tools(body.get("tools"))
    if tools:
        parameters["tools"] = tools
    if search is not None:
        parameters["web_search_options"] = search
    choice = tool_choice(body.get("tool_choice"))
    if choice is not None:
        parameters["tool_choice"] = choice
    for name, to in (("parallel_tool_calls", "parallel_tool_calls"), ("temperature", "temperature"),
                     ("top_p", "top_p"), ("max_output_tokens", "max_tokens")):
        if body.get(name) is not None:
            parameters[to] = body[name]
    reasoning = _object(body["reasoning"], "reasoning") if body.get("reasoning") is not None else {}
    if reasoning.get("effort") is not None:
        parameters["reasoning_effort"] = reasoning["effort"]
    response_format = _text_format(body["text"]) if body.get("text") is not None else None
    if response_format is not None:
        parameters["response_format"] = response_format
    parameters, notes = map_web_search_options(whole_numbers(parameters))
    try:
        parameters, changes = chat_parameters(model, parameters, messages, rules)
    except InvalidRequest as error:  # named as this door names it
        error.param = {"reasoning_effort": "reasoning.effort", "response_format": "text.format"}.get(
            error.param or "", error.param)
        raise
    parameters = with_call_defaults(validate_parameters(parameters), "message", stream)

    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise InvalidRequest("`user` must be a string", param="user")
    echo = {
        "instructions": instructions, "metadata": _metadata(body["metadata"]) if body.get("metadata") is not None else {},
        "user": user, "tools": body.get("tools") or [], "tool_choice": body.get("tool_choice") or "auto",
        "parallel_tool_calls": body.get("parallel_tool_calls", True), "temperature": body.get("temperature"),
        "top_p": body.get("top_p"), "max_output_tokens": body.get("max_output_tokens"),
        "previous_response_id": body.get("previous_response_id"), "store": store,
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "text": {"format": (body.get("text") or {}).get("format") or {"type": "text"}},
        "truncation": body.get("truncation") or "disabled",
    }
    call = GenerationCall(model=model, messages=messages, parameters=parameters)
    return ResponsesRequest(call=call, stream=stream, response_id=f"resp_{uuid.uuid4().hex}", store=store, echo=echo,
                            history=history, namespaces=namespaces, changes=tuple([*notes, *changes]))

