"""The DashScope adapter: the only module that imports `dashscope`.

It sends a `GenerationCall` through the official SDK and turns what comes back into our own types:
`Completion` for a result or a stream chunk, and `core.errors` exceptions for every failure, so the
views never see an SDK object or an SDK exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Iterator

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from core.errors import (
    ApiError,
    UpstreamError,
    UpstreamStreamIncomplete,
    UpstreamTimeout,
    UpstreamUnreachable,
)

# Importing dashscope costs about a second; it happens once per worker, when the app is built.
from dashscope import Generation  # noqa: E402  (kept next to the comment that explains its cost)

# The SDK logs every transport failure with a traceback under the "dashscope" logger. We report
# failures ourselves, once, in the request's log line; its messages would only duplicate them.
logging.getLogger("dashscope").setLevel(logging.CRITICAL)

# Keyword arguments of Generation.call that steer the SDK itself rather than the model. A request
# that names one of them would redirect the call (base_address), swap the key (api_key) or inject
# headers, so they can never pass through from a client.
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

# Connections kept per host: one per concurrently running call, so a burst does not reconnect.
CONNECTION_POOL_SIZE = 256

@dataclass(frozen=True)
class GenerationCall:
    """One text-generation request as DashScope understands it."""

    model: str
    messages: list[dict[str, Any]] | None = None
    prompt: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """A DashScope result, or one chunk of a stream, as plain data."""

    request_id: str
    output: dict[str, Any]
    usage: dict[str, Any]

    @property
    def finish_reason(self) -> str | None:
        reason = self.output.get("finish_reason")
        choices = self.output.get("choices") or []
        if choices and isinstance(choices[0], dict):
            reason = choices[0].get("finish_reason") or reason
        # DashScope marks a chunk that is not the last with the string "null".
        return reason if reason and reason != "null" else None


def _plain(value: Any) -> Any:
    """Copy SDK dict subclasses (GenerationOutput, Choice, Message) into plain dicts and lists."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# HTTP status by DashScope error code (prefix), for errors that arrive as an SSE event: the SDK
# reports those as 400 unless the event carries a status line, which DashScope's events do not.
STATUS_BY_CODE_PREFIX = (
    ("Throttling", 429),
    ("InvalidApiKey", 401),
    ("AccessDenied", 403),
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


def _error_from_response(response: Any, in_stream: bool = False) -> UpstreamError:
    status = int(response.status_code or 502)
    code = response.code or "UpstreamError"
    if in_stream:
        status = _status_for_code(code, status)
    message = response.message
    if code == "Unknown" or not isinstance(message, str):
        # The body was not DashScope's JSON (a proxy's HTML page, say): name the status, not the page.
        message = f"DashScope answered HTTP {status} with a body that is not a DashScope error"
    return UpstreamError(message, status=status, code=code, upstream_request_id=response.request_id)


def _completion(response: Any) -> Completion:
    return Completion(
        request_id=response.request_id or "",
        output=_plain(response.output) or {},
        usage=_plain(response.usage) or {},
    )


class QwenUpstream:
    """Calls DashScope's text generation through the official SDK on a shared connection pool."""

    def __init__(self, api_key: str | None, base_url: str | None, timeout_s: float) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=CONNECTION_POOL_SIZE)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session
        return self._session

    def warm(self) -> None:
        """Build the connection pool ahead of the first call (FC's /initialize hook)."""
        _ = self.session

    def _sdk_call(self, call: GenerationCall, stream: bool) -> Any:
        kwargs: dict[str, Any] = dict(call.parameters)
        if call.messages is not None:
            kwargs["messages"] = call.messages
        if call.prompt is not None:
            kwargs["prompt"] = call.prompt
        if self._base_url:
            kwargs["base_address"] = self._base_url
        try:
            return Generation.call(
                model=call.model,
                api_key=self._api_key,
                stream=stream,
                session=self.session,
                request_timeout=self._timeout_s,
                **kwargs,
            )
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes one of ours
            raise _transport_error(exc) from exc

    def complete(self, call: GenerationCall) -> Completion:
        response = self._sdk_call(call, stream=False)
        if response.status_code != HTTPStatus.OK:
            raise _error_from_response(response)
        return _completion(response)

    def stream(self, call: GenerationCall) -> Iterator[Completion]:
        """Yield chunks as DashScope sends them.

        Raises an UpstreamError for an error event, and UpstreamStreamIncomplete when the stream
        ends without a finish_reason: the SDK just stops iterating when the connection is cut.
        """
        responses = self._sdk_call(call, stream=True)
        received = False
        try:
            while True:
                try:
                    response = next(responses)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001
                    raise _transport_error(exc, during_stream=received) from exc
                if response.status_code != HTTPStatus.OK:
                    raise _error_from_response(response, in_stream=True)
                chunk = _completion(response)
                received = True
                yield chunk
                if chunk.finish_reason is not None:
                    return
        finally:
            responses.close()
        raise UpstreamStreamIncomplete()


def _is_timeout(exc: Exception) -> bool:
    # Reading a streamed body, requests re-raises urllib3's read timeout as a ConnectionError.
    return isinstance(exc, requests.exceptions.Timeout) or any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )


def _transport_error(exc: Exception, during_stream: bool = False) -> ApiError:
    if _is_timeout(exc):
        return UpstreamTimeout(f"DashScope sent nothing for the configured timeout ({type(exc).__name__})")
    if during_stream and isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        return UpstreamStreamIncomplete("the connection to DashScope broke in the middle of the stream")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return UpstreamUnreachable(f"could not connect to DashScope ({type(exc).__name__})")
    if isinstance(exc, requests.exceptions.RequestException):
        return UpstreamUnreachable(f"the request to DashScope failed ({type(exc).__name__})")
    return UpstreamError(f"the DashScope SDK failed ({type(exc).__name__})")
