"""DashScope's answers as our own types: a response (an SDK object, read only by its fields:
status_code, code, message, request_id, output, usage, headers; a stream chunk's by key, see
`response_field`) becomes a `Completion`, or the `UpstreamError` it carries. No SDK import here:
core/upstream/sdk.py makes the calls.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson

from core.errors import (
    UpstreamBadResponse,
    UpstreamError,
    UpstreamKeyRefused,
    UpstreamModelNotFound,
    UpstreamStreamIncomplete,
)
from core.types import Completion
from core.upstream.limits import limit_error, limit_of

log = logging.getLogger("qwenfc")


_NESTED = (dict, list)


def _plain(value: Any) -> Any:
    """Copy SDK dict subclasses (GenerationOutput, Choice, Message) into plain dicts and lists.

    Runs on every stream chunk. What the SDK hands over came from JSON, so a JSON round trip in orjson
    copies it (2 µs for a stream chunk against 4 µs for the copy in Python below, which stays for
    what orjson refuses).
    """
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return _plain_copy(value)


def _plain_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain_copy(item) if isinstance(item, _NESTED) else item for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_copy(item) if isinstance(item, _NESTED) else item for item in value]
    return value


def response_field(response: Any, name: str) -> Any:
    """One field of an SDK response (status_code, request_id, output, usage, ...).

    The SDK's responses are dicts (its DictMixin) that answer an attribute read only after a failed
    lookup, through `__getattr__`: 0.7 µs a read against 0.12 for the key, four reads a stream chunk.
    Anything else that looks like a response is read by its attributes.
    """
    return response.get(name) if isinstance(response, dict) else getattr(response, name)


def completion_of(response: Any) -> Completion:
    output, usage = response_field(response, "output"), response_field(response, "usage")
    if type(output) is not dict and isinstance(output, dict):
        # The SDK's own objects (dict subclasses: it merges cumulative streams with them): copied,
        # output and usage in one round trip. What the SDK's JSON decoder made (plain all through:
        # core/upstream/sdk_stand_ins.py) is ours as it is.
        output, usage = _plain([output, usage])
    _check_shape(output, usage, response)
    return Completion(request_id=response_field(response, "request_id") or "", output=output or {}, usage=usage or {})


def _check_shape(output: Any, usage: Any, response: Any) -> None:
    """Raise UpstreamBadResponse unless `output` and `usage` are of DashScope's shape (`_shape_fault`):
    what the SDK's response classes checked by building themselves (a TypeError there). Anything
    else is not a DashScope answer: never the caller's fault, never retried."""
    fault = _shape_fault(output, usage)
    if fault is not None:
        request_id = response_field(response, "request_id")
        # The clue to what came back (its types, never its content) is in the log, not the answer.
        log.error("DashScope's answer could not be read: %s (upstream request %s)", fault, request_id or "unknown")
        raise UpstreamBadResponse(
            "DashScope answered something this function could not read (its output or usage is not of "
            "DashScope's shape): not a DashScope answer, or one of an unexpected shape",
            upstream_request_id=request_id or None)


def _shape_fault(output: Any, usage: Any) -> str | None:
    """What is not of DashScope's shape, as far as the doors read it: `output` an object; its `choices`
    (when present) a list of objects, each with an object or nothing as its `message`, and a list of
    objects or nothing as the message's `tool_calls`; `usage` an object or nothing, and its token
    details objects or nothing."""
    if type(output) is not dict:
        return f"its output is {type(output).__name__}, not an object"
    if usage:
        if type(usage) is not dict:
            return f"its usage is {type(usage).__name__}, not an object"
        for name in _USAGE_DETAILS:
            if type(usage.get(name) or {}) is not dict:
                return f"its usage.{name} is {type(usage[name]).__name__}, not an object"
    choices = output.get("choices")
    if not choices:  # none, or an empty list (the SDK's classes took `{}` and `""` as none too)
        return None
    if type(choices) is not list:
        return f"its output.choices is {type(choices).__name__}, not a list"
    for choice in choices:
        message = choice.get("message") if type(choice) is dict else None
        if type(choice) is not dict or type(message or {}) is not dict:
            return "its output.choices holds something other than an object with an object as its message"
        calls = message.get("tool_calls") if message else None
        if calls and (type(calls) is not list or any(type(call) is not dict for call in calls)):
            return "its message's tool_calls is not a list of objects"
    return None


# The usage details the doors read (core/callers/model.py's Tokens, the OpenAI-shaped usage).
_USAGE_DETAILS = ("output_tokens_details", "prompt_tokens_details")


# HTTP status by DashScope error code (prefix), for errors that arrive as an SSE event: the SDK
# reports those as 400 unless the event carries a status line, which DashScope's events do not.
STATUS_BY_CODE_PREFIX = (
    ("Throttling", 429),
    ("InvalidApiKey", 401),
    ("AccessDenied", 403),
    ("AllocationQuota", 403),
    ("ModelNotFound", 404),
    ("InternalError", 500),
    ("SystemError", 500),
    ("ModelUnavailable", 503),
    ("ServiceUnavailable", 503),
    ("RequestTimeOut", 504),
)


def _status_for_code(code: str, reported: int) -> int:
    if reported != HTTPStatus.BAD_REQUEST:
        return reported
    for prefix, status in STATUS_BY_CODE_PREFIX:
        if code.startswith(prefix):
            return status
    return reported


def _sane_retry_after(value: Any) -> str | None:
    """A Retry-After worth passing on: a number of seconds from 0 to an hour (else dropped)."""
    text = str(value).strip() if value is not None else ""
    return text if text.replace(".", "", 1).isdigit() and float(text) <= 3600 else None


def _model_unknown(status: int, code: str, message: str) -> bool:
    """DashScope's answer for a model it does not serve (a typo, a retired name): 400 InvalidParameter
    "Model not exist." (Model Studio's error-code page), or a ModelNotFound code."""
    return code.startswith("ModelNotFound") or (
        status == HTTPStatus.BAD_REQUEST and message.strip().lower().startswith("model not exist"))


def error_of(response: Any, in_stream: bool = False) -> UpstreamError:
    status = int(response.status_code or 502)
    code = response.code or "UpstreamError"
    if 300 <= status < 400:
        # requests follows a redirect with a Location; one that reaches here means nothing to a caller.
        return UpstreamBadResponse(
            f"DashScope answered HTTP {status}, a redirect this function cannot follow "
            "(check DASHSCOPE_HTTP_BASE_URL and any proxy)", upstream_request_id=response.request_id)
    if in_stream and code == "Unknown" and status == HTTPStatus.BAD_REQUEST:
        # The SDK's mark for a stream event whose data is not JSON: a stream cut inside an event (what
        # it reads last is the event's first part), or one that is not DashScope's. Not the caller's
        # request: the stream broke (502, never retried: the model may have generated already).
        return UpstreamStreamIncomplete(
            "DashScope's stream broke inside an event (what arrived of it is not whole JSON): the answer is "
            "incomplete", upstream_request_id=response.request_id or None)
    if in_stream:
        status = _status_for_code(code, status)
    if status == HTTPStatus.UNAUTHORIZED:
        # The function's own key was refused: the owner's fault, said loudly (the key itself never).
        log.error("DashScope refused this function's DASHSCOPE_API_KEY (%s %s): every call fails until "
                  "the function is redeployed with a valid key", status, code)
        return UpstreamKeyRefused(upstream_request_id=response.request_id)
    message = response.message
    if code == "Unknown" or not isinstance(message, str):
        # The body was not DashScope's JSON (a proxy's HTML page, say): name the status, not the page.
        message = f"DashScope answered HTTP {status} with a body that is not a DashScope error"
    retry_after = _sane_retry_after((response.headers or {}).get("Retry-After")) if status == 429 else None
    limit = limit_of(status, code, message)
    if limit is not None:
        return limit_error(limit, status, code, message, retry_after, response.request_id)
    if _model_unknown(status, code, message):
        return UpstreamModelNotFound(message, status=status, code=code, upstream_request_id=response.request_id,
                                     param="model")
    return UpstreamError(
        message,
        status=status,
        code=code,
        upstream_request_id=response.request_id,
        headers={"Retry-After": retry_after} if retry_after else None,
    )


# Whether DashScope answered this thread's call (a response hook on the session): a failure after an
# answer came is in reading it (DashScope's fault or a proxy's), never the caller's.
