"""What a POST to /invoke means: the mode, the call to make upstream, and whether to stream.

Bodies come in three shapes and all of them work on every /invoke route:

- raw text (what the FC console's test tab sends, as application/octet-stream);
- flat JSON: ``{"messages" | "prompt": ..., "model": ..., "temperature": ..., "stream": ...}``;
- DashScope-native JSON: ``{"model": ..., "input": {...}, "parameters": {...}}``, so a system
  that already calls DashScope's HTTP API only changes the URL and drops its key.

The two JSON shapes are read by core/dashscope_wire.py (the native door reads them there too).
"""

from __future__ import annotations

from typing import Any

from core.config import Config, InvokeMode
from core.dashscope_wire import GenerationRequest, finish_parameters, structured_request
from core.errors import InvalidRequest
from core.json_input import load_json
from core.types import GenerationCall

# What /invoke's parser returns: a generation request (core/dashscope_wire.py).
InvokeRequest = GenerationRequest
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def stream_flag(value: str | None, source: str) -> bool | None:
    """Read an on/off switch from a query string value; None when absent."""
    if value is None:
        return None
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidRequest(f"`{source}` must be true or false, got {value!r}")


def _is_json_content_type(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(
            "the body is not valid UTF-8 text: send it as UTF-8 (charset=utf-8); other charsets (GBK, ...) are not converted"
        ) from None


def _structured_payload(text: str, mimetype: str) -> dict[str, Any] | None:
    """The JSON object a body carries, or None when the body is the user's raw text."""
    if _is_json_content_type(mimetype):
        payload = load_json(text, "the body is sent as application/json but")
        if not isinstance(payload, dict):
            raise InvalidRequest("a JSON body must be an object with `messages` or `prompt`")
        return payload
    if mimetype == "text/plain":
        return None  # declared text is text, whatever it looks like
    # The console sends JSON test events as application/octet-stream: a body that parses as an
    # object naming our fields is structured; anything else is text to send to the model.
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    # Shaped like a JSON object: a mistake in it is the caller's to hear about, not text for the model.
    try:
        payload = load_json(text, "the body looks like a JSON object but")
    except InvalidRequest as error:
        raise InvalidRequest(
            f"{error.message}; to send text that starts with `{{` to the model as it is, send it with "
            "Content-Type: text/plain"
        ) from None
    if isinstance(payload, dict) and payload.keys() & {"messages", "prompt", "input"}:
        return payload
    return None


def parse_invoke_body(
    body: bytes,
    mimetype: str,
    config: Config,
    fixed_mode: InvokeMode | None = None,
    stream_requested: bool = False,
) -> InvokeRequest:
    """Turn an /invoke request body into the call to make. Raises InvalidRequest naming the problem."""
    if not body.strip():
        raise InvalidRequest("the body is empty: send your text, or JSON with `messages` or `prompt`")
    text = _decode(body)
    payload = _structured_payload(text, mimetype)

    if payload is None:
        # Raw text: the user's words, sent in the route's mode (or INVOKE_MODE on plain /invoke).
        mode = fixed_mode or config.invoke_mode
        parameters = finish_parameters({}, mode, stream_requested)
        if mode == "messages":
            messages = [
                {"role": "system", "content": config.system_prompt},
                {"role": "user", "content": text},
            ]
            call = GenerationCall(config.default_model, messages=messages, parameters=parameters)
        else:
            call = GenerationCall(config.default_model, prompt=text, parameters=parameters)
        return InvokeRequest(mode, call, stream_requested)

    return structured_request(payload, config, fixed_mode, stream_requested)
