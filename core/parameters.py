"""Validation of messages and generation parameters against the DashScope API reference.

Known parameters are type- and range-checked (strictly: "0.5" is not a number); a bad one is an
InvalidRequest naming it. Parameters we do not know pass through untouched, so a new DashScope
option works without a release of this function. What is forwarded is always the caller's own
value, never a re-serialised copy.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from core.cache_control import check_markers
from core.errors import InvalidRequest
# The model-name rules live in core/model_names.py; importers of this module find them here too.
from core.model_names import (  # noqa: F401
    MODEL_NAME_MAX_LENGTH, MODEL_NAME_PATTERN, MODEL_NAME_SCHEMA, check_model_name, model_name,
)

# Keyword arguments of the SDK's call that steer the SDK itself rather than the model. A request
# that names one of them would redirect the call (base_address), swap the key (api_key) or inject
# headers, so no request may set them, whichever door it comes through.
SDK_CONTROL_ARGUMENTS = frozenset(
    {
        "api_key", "workspace", "plugins", "history", "headers", "session", "base_address",
        "request_timeout", "api_protocol", "http_method", "async_request", "ws_stream_mode",
        "is_binary_input", "query", "form", "resources", "flattened_output", "extra_url_parameters",
        "user_agent", "task_id", "enable_encryption", "pre_task_id", "sdk_module", "is_service",
        "task_group", "task", "function", "input", "customized_model_id", "model", "messages",
        "prompt", "stream",
    }
)

_STRICT_OPEN = ConfigDict(strict=True, extra="allow")


class FunctionSpec(BaseModel):
    model_config = _STRICT_OPEN
    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(BaseModel):
    model_config = _STRICT_OPEN
    type: Literal["function"]
    function: FunctionSpec


class NamedFunction(BaseModel):
    model_config = _STRICT_OPEN
    name: Annotated[str, Field(min_length=1)]


class NamedToolChoice(BaseModel):
    model_config = _STRICT_OPEN
    type: Literal["function"]
    function: NamedFunction


# What OpenAPI says of the two fields checked by a function rather than by their type.
STOP_SCHEMA = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
        {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}, "minItems": 1},
    ]
}
# (The object form is NamedToolChoice; parameters_json_schema names it, as a ref pydantic cannot make here.)
TOOL_CHOICE_SCHEMA = {"oneOf": [{"enum": ["auto", "none", "required"]}, {"type": "object"}]}


def _check_stop(value: Any) -> Any:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, list) and value:
        if all(isinstance(item, str) for item in value):
            return value
        if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
            return value
        if all(
            isinstance(item, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in item)
            for item in value
        ):
            return value
    raise ValueError(
        "must be a string, a list of strings, a list of token ids or a list of token-id lists "
        "(one kind, not mixed)"
    )


def _check_tool_choice(value: Any) -> Any:
    # "required" (OpenAI's forced tool use, LangChain's tool_choice="any"): DashScope honours it, and
    # the named form, with thinking off (core/parameter_rules.py turns thinking off or refuses).
    if value in ("auto", "none", "required"):
        return value
    if not isinstance(value, dict):
        raise ValueError('must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}')
    NamedToolChoice.model_validate(value)
    return value


def _check_content(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, dict) for part in value):
        return value
    raise ValueError("must be a string or a list of content-part objects")


class ResponseFormat(BaseModel):
    model_config = _STRICT_OPEN
    type: Literal["text", "json_object", "json_schema"]


def _check_citation_format(value: str) -> str:
    if "<number>" not in value:
        raise ValueError('must contain `<number>`, where the source\'s number goes: "[<number>]" or "[ref_<number>]"')
    return value


class SearchOptions(BaseModel):
    """`search_options` (help.aliyun.com/zh/model-studio/web-search): the options this function reads or
    documents, typed; DashScope's others (freshness, assigned_site_list, ...) pass as they are."""

    model_config = _STRICT_OPEN

    forced_search: bool | None = None
    # turbo (the default), max, agent, agent_max: DashScope adds strategies, so any name is passed on.
    search_strategy: Annotated[str, Field(min_length=1)] | None = None
    enable_source: bool | None = None
    enable_citation: bool | None = None
    citation_format: Annotated[
        str, AfterValidator(_check_citation_format), WithJsonSchema({"type": "string", "pattern": "<number>"})
    ] | None = None
    prepend_search_result: bool | None = None


class GenerationParameters(BaseModel):
    """The parameters the API reference documents, with their types and ranges."""

    model_config = _STRICT_OPEN

    temperature: Annotated[float, Field(ge=0, lt=2)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    top_k: Annotated[int, Field(ge=0)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)] | None = None
    # A string, strings, token ids, or lists of token ids; never a mix (the reference forbids it).
    stop: Annotated[Any, AfterValidator(_check_stop), WithJsonSchema(STOP_SCHEMA)] = None
    repetition_penalty: Annotated[float, Field(gt=0)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    enable_search: bool | None = None
    result_format: Literal["text", "message"] | None = None
    tools: Annotated[list[Tool], Field(min_length=1)] | None = None
    tool_choice: Annotated[Any, AfterValidator(_check_tool_choice), WithJsonSchema(TOOL_CHOICE_SCHEMA)] = None
    response_format: ResponseFormat | None = None
    incremental_output: bool | None = None
    # Thinking models (docs/models.md): on or off, and a cap on thinking tokens.
    enable_thinking: bool | None = None
    thinking_budget: Annotated[int, Field(ge=1)] | None = None
    # Taken natively by qwen3.8-max and later and deepseek-v4; /v1 maps it for other models.
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    n: Annotated[int, Field(ge=1, le=4)] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=5)] | None = None
    parallel_tool_calls: bool | None = None
    search_options: SearchOptions | None = None
    translation_options: dict[str, Any] | None = None


class _Message(BaseModel):
    model_config = _STRICT_OPEN
    role: Literal["system", "user", "assistant", "tool"]
    # A string, or a list of content parts (text, image_url, ...) for multimodal models.
    content: Annotated[Any, AfterValidator(_check_content)] = None
    tool_calls: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _has_something_to_say(self) -> "_Message":
        if self.role == "assistant":
            if self.content is None and not self.tool_calls:
                raise ValueError("an assistant message needs `content` or `tool_calls`")
        elif self.content is None or self.content == "" or self.content == []:
            raise ValueError(f"a {self.role} message needs non-empty `content`")
        return self


def parameters_json_schema(ref_prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What OpenAPI says of the documented parameters, made from the definitions above (never typed
    twice): each parameter's schema, and the schemas they refer to, with refs under `ref_prefix`.
    A parameter may also be null (validation drops it: the same as leaving it out)."""
    template = ref_prefix + "{model}"
    schema = GenerationParameters.model_json_schema(ref_template=template)
    definitions = schema.get("$defs", {})
    choice = NamedToolChoice.model_json_schema(ref_template=template)
    definitions.update(choice.pop("$defs", {}), NamedToolChoice=choice)
    properties = schema["properties"]
    properties["tool_choice"] = {"oneOf": [TOOL_CHOICE_SCHEMA["oneOf"][0], {"$ref": ref_prefix + "NamedToolChoice"}]}
    return properties, definitions


_MESSAGES = TypeAdapter(Annotated[list[_Message], Field(min_length=1)])


def _field_path(prefix: str, location: tuple[Any, ...]) -> str:
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _invalid(prefix: str, error: ValidationError) -> InvalidRequest:
    first = error.errors(include_url=False)[0]
    path = _field_path(prefix, tuple(first["loc"]))
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "model_type":  # pydantic names its class ("a valid dictionary or instance of ...")
        message = "must be an object"
    given = first.get("input")
    shown = "" if isinstance(given, (dict, list)) else f" (got {given!r})"
    return InvalidRequest(f"invalid `{path}`: {message}{shown}", param=path)


def validate_messages(messages: Any) -> list[dict[str, Any]]:
    """Check a messages list; return it unchanged (roles, tool_calls, extra keys, `cache_control` all kept)."""
    if not isinstance(messages, list):
        raise InvalidRequest("`messages` must be a list of {role, content} objects")
    try:
        _MESSAGES.validate_python(messages)
    except ValidationError as error:
        raise _invalid("messages", error) from None
    check_markers(messages)  # context-cache markers on content parts (core/cache_control.py)
    return messages


def validate_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Check known parameters; return the caller's parameters without the ones set to null."""
    for name in parameters:
        if name in SDK_CONTROL_ARGUMENTS:
            raise InvalidRequest(f"`{name}` cannot be set by a request: it is not a generation parameter", param=name)
    if not parameters:  # raw text, or JSON without parameters: the common case, nothing to check
        return {}
    try:
        GenerationParameters.model_validate(parameters)
    except ValidationError as error:
        raise _invalid("", error) from None
    return {name: value for name, value in parameters.items() if value is not None}


def stream_switch(value: Any) -> bool:
    """A body's `stream` field: true, false, or absent (false)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest(f"`stream` must be true or false, got {value!r}", param="stream")
    return value


def with_call_defaults(parameters: dict[str, Any], result_format: str, stream: bool) -> dict[str, Any]:
    """What every call asks of DashScope unless the caller said otherwise: `result_format`, and
    incremental stream events (each carries only the new text)."""
    parameters.setdefault("result_format", result_format)
    if stream:
        parameters.setdefault("incremental_output", True)
    return parameters
