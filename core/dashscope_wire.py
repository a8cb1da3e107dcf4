"""DashScope's request body, read in one place for the doors that take it (/invoke and the native
door): ``{"model": ..., "input": {"messages" | "prompt": ...}, "parameters": {...}}``, and /invoke's flat
shape of the same fields (``{"messages" | "prompt": ..., "model": ..., "temperature": ..., "stream": ...}``)
-> a `GenerationRequest` (mode, call, stream). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.compatible_fields import compatible_parameters
from core.config import Config, InvokeMode
from core.errors import InvalidRequest
from core.parameters import model_name, stream_switch, validate_messages, validate_parameters, with_call_defaults
from core.json_input import whole_numbers
from core.types import GenerationCall

# Top-level fields of the native shape; anything else there is a mistake worth naming.
NATIVE_FIELDS = frozenset({"model", "input", "parameters", "stream"})
# Top-level fields of the flat shape that are not generation parameters.
FLAT_FIELDS = frozenset({"messages", "prompt", "model", "stream", "parameters"})


@dataclass(frozen=True)
class GenerationRequest:
    mode: InvokeMode
    call: GenerationCall
    stream: bool

    def log_fields(self) -> dict[str, Any]:
        return {"mode": self.mode, "model": self.call.model, "stream": self.stream}


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"`{name}` must be a JSON object")
    return value


@dataclass(frozen=True)
class _BodyFields:
    messages: Any
    prompt: Any
    model: Any
    stream: Any
    parameters: dict[str, Any]


def _fields_of(payload: dict[str, Any]) -> _BodyFields:
    """The fields of a flat or a DashScope-native body, wherever each shape keeps them."""
    if "input" in payload:
        unknown = sorted(payload.keys() - NATIVE_FIELDS)
        if unknown:
            raise InvalidRequest(
                f"unknown top-level field `{unknown[0]}` in a DashScope-native body; "
                "generation parameters go under `parameters`"
            )
        given = _object(payload["input"], "input")
        dropped = sorted(given.keys() - {"messages", "prompt"})
        if dropped:  # never sent on, so never silently dropped (`history`: DashScope's old turns)
            raise InvalidRequest(f"unknown field `input.{dropped[0]}`: `input` carries `messages` or `prompt` "
                                 "(earlier turns go in `messages`)", param=f"input.{dropped[0]}")
        parameters = dict(_object(payload.get("parameters", {}), "parameters"))
    else:
        given = payload
        parameters = {name: value for name, value in payload.items() if name not in FLAT_FIELDS}
        if "parameters" in payload:
            nested = _object(payload["parameters"], "parameters")
            clash = sorted(parameters.keys() & nested.keys())
            if clash:
                raise InvalidRequest(f"`{clash[0]}` is given both at the top level and in `parameters`; give it once")
            parameters.update(nested)
    # DashScope itself takes the stream switch from a header; accept it among the parameters too.
    stream = payload.get("stream", parameters.pop("stream", None))
    return _BodyFields(given.get("messages"), given.get("prompt"), payload.get("model"), stream, parameters)


def _mode_of(fields: _BodyFields, fixed_mode: InvokeMode | None) -> InvokeMode:
    has_messages, has_prompt = fields.messages is not None, fields.prompt is not None
    if fixed_mode is not None:
        other = "prompt" if fixed_mode == "messages" else "messages"
        carries_other = has_prompt if fixed_mode == "messages" else has_messages
        if carries_other:
            raise InvalidRequest(
                f"POST /invoke/{fixed_mode} expects `{fixed_mode}`, but the body carries `{other}`; "
                f"send `{fixed_mode}` or use POST /invoke/{other}"
            )
        if not (has_messages or has_prompt):
            raise InvalidRequest(f"POST /invoke/{fixed_mode} expects `{fixed_mode}` in a JSON body, or raw text")
        return fixed_mode
    if has_messages and has_prompt:
        raise InvalidRequest("send either `messages` or `prompt`, not both")
    if not (has_messages or has_prompt):
        raise InvalidRequest("a JSON body needs `messages` (messages mode) or `prompt` (prompt mode)")
    return "messages" if has_messages else "prompt"


def checked_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """A call's parameters, checked (core/parameters.py), with no default added."""
    parameters = validate_parameters(compatible_parameters(whole_numbers(parameters)))
    if parameters.get("tools") and parameters.get("result_format") == "text":
        raise InvalidRequest("`tools` need `result_format` \"message\" (DashScope returns tool calls only as messages)")
    return parameters


def finish_parameters(
    parameters: dict[str, Any], mode: InvokeMode, stream: bool
) -> dict[str, Any]:
    parameters = checked_parameters(parameters)
    default_format = "text" if mode == "prompt" and not parameters.get("tools") else "message"
    return with_call_defaults(parameters, default_format, stream)


def structured_request(
    payload: dict[str, Any],
    config: Config,
    fixed_mode: InvokeMode | None = None,
    stream_requested: bool = False,
    call_defaults: bool = True,
) -> GenerationRequest:
    """The call a flat or DashScope-native JSON object asks for. `call_defaults`: add the function's
    defaults (result_format, incremental stream events); the native door (handlers/native/body.py) adds
    none, so that its callers get exactly what DashScope would have answered them."""
    fields = _fields_of(payload)
    mode = _mode_of(fields, fixed_mode)
    streaming = stream_switch(fields.stream) or stream_requested
    if mode == "messages":
        validate_messages(fields.messages)
    elif not isinstance(fields.prompt, str) or not fields.prompt.strip():
        raise InvalidRequest("`prompt` must be a non-empty string")
    parameters = (
        finish_parameters(fields.parameters, mode, streaming) if call_defaults else checked_parameters(fields.parameters)
    )
    call = GenerationCall(
        model=model_name(fields.model, config.default_model),
        messages=fields.messages if mode == "messages" else None,
        prompt=fields.prompt if mode == "prompt" else None,
        parameters=parameters,
    )
    return GenerationRequest(mode, call, streaming)
