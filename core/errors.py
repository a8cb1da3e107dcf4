"""One error hierarchy for everything a caller can be told went wrong, mapped to HTTP in one place.

Views and the upstream adapter raise these; `register_error_handlers` turns them (and Flask's own
404/405/400s, and anything unexpected) into the JSON body every route answers with:
``{"status_code", "request_id", "code", "message"}``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from core.observability import current_request_id, note

log = logging.getLogger("qwenfc")


class ApiError(Exception):
    """Base of every error a caller sees. Subclasses fix the HTTP status and the code."""

    status: int = 500
    code: str = "InternalError"
    default_message: str = "internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        upstream_request_id: str | None = None,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        # The request field at fault, when there is one (OpenAI's error body has a place for it).
        self.param = param
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.upstream_request_id = upstream_request_id or None
        self.headers = headers or {}
        super().__init__(self.message)


class InvalidRequest(ApiError):
    status = 400
    code = "InvalidParameter"  # DashScope's own code for a bad request, so callers match one code.
    default_message = "invalid request"


class RouteNotFound(ApiError):
    status = 404
    code = "NotFound"
    default_message = "no such route"


class MethodNotAllowed(ApiError):
    status = 405
    code = "MethodNotAllowed"
    default_message = "method not allowed on this route"


class Unauthorized(ApiError):
    status = 401
    code = "InvalidToken"
    default_message = "this function needs `Authorization: Bearer <token>` with one of its INVOKE_TOKEN values"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="qwen-fc"'})


class PayloadTooLarge(ApiError):
    status = 413
    code = "PayloadTooLarge"
    default_message = "the body is larger than this function accepts"


class Overloaded(ApiError):
    """This instance already carries MAX_IN_FLIGHT calls: answer at once so FC (or the caller) can
    try elsewhere, instead of queueing behind calls that take seconds each."""

    status = 429
    code = "TooManyInFlight"
    default_message = "this instance is at its MAX_IN_FLIGHT calls; retry shortly"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": "1"})


class ServiceNotConfigured(ApiError):
    status = 503
    code = "ApiKeyNotConfigured"
    default_message = (
        "DASHSCOPE_API_KEY is not set on this function: set it in the function's environment "
        "variables (s.yaml reads it from the deployer's shell) and redeploy"
    )


class UpstreamError(ApiError):
    """DashScope answered with an error; its status, code and message are kept as they are."""

    status = 502
    code = "UpstreamError"
    default_message = "DashScope returned an error"


class UpstreamKeyRefused(UpstreamError):
    """DashScope refused the function's own key (401 InvalidApiKey). The only credential the function
    sends DashScope is its DASHSCOPE_API_KEY, so this is the owner's to fix, never the caller's: a 5xx,
    so that no client blames (or rotates) its own credentials, and never retried."""

    status = 503
    code = "ApiKeyRefused"
    default_message = (
        "DashScope refused this function's API key (DASHSCOPE_API_KEY): the function's owner must set a "
        "valid key and redeploy. Your own credentials are not at fault"
    )


class UpstreamUnreachable(UpstreamError):
    status = 502
    code = "UpstreamUnreachable"
    default_message = "could not connect to DashScope"


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "UpstreamTimeout"
    default_message = "DashScope did not answer in time"


class CallDeadlineExceeded(UpstreamTimeout):
    """The call as a whole ran past CALL_DEADLINE_S (UPSTREAM_TIMEOUT_S only bounds a silence)."""

    status = 504
    code = "CallDeadlineExceeded"
    default_message = "the call ran longer than this function allows (CALL_DEADLINE_S)"


class UpstreamStreamIncomplete(UpstreamError):
    status = 502
    code = "UpstreamStreamIncomplete"
    default_message = "the DashScope stream ended before the model finished (no finish_reason)"


class InstanceStopping(ApiError):
    """FC is stopping this instance and the stream could not finish before it must exit."""

    status = 503
    code = "InstanceStopping"
    default_message = (
        "this function instance is stopping (FC is shutting it down) and the answer could not finish "
        "before it exits; send the call again"
    )


class InternalError(ApiError):
    status = 500
    code = "InternalError"
    default_message = "internal error; quote the request id when reporting it"


def error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    """The JSON an error becomes, in a response body or an SSE error event.

    `request_id` is DashScope's when the failure came from DashScope (what Alibaba Cloud support asks
    for), otherwise this function's own request id (also in the X-Request-Id header).
    """
    return {
        "status_code": error.status,
        "request_id": error.upstream_request_id or request_id,
        "code": error.code,
        "message": error.message,
    }


# A door's error body, from the error and this function's request id.
ErrorBody = Callable[[ApiError, str], dict[str, Any]]
RENDERERS_KEY = "qwenfc.error_bodies"


def use_error_body(app: Flask, path_prefix: str, body: ErrorBody) -> None:
    """Errors on paths under `path_prefix` get `body` instead of the default JSON shape.

    A door with its own error format (OpenAI's) registers it here; the status, the code and the
    headers still come from the one hierarchy above.
    """
    app.extensions[RENDERERS_KEY].append((path_prefix, body))


def _error_body_for_path(path: str) -> ErrorBody:
    for prefix, body in current_app.extensions[RENDERERS_KEY]:
        if path.startswith(prefix):
            return body
    return error_body


def error_body_for_this_door() -> Callable[[ApiError], dict[str, Any]]:
    """How the door serving this request writes errors; usable after the request context is gone
    (a stream's error event)."""
    render, request_id = _error_body_for_path(request.path), current_request_id()
    return lambda error: render(error, request_id)


def error_response(error: ApiError) -> Response:
    note(error_code=error.code)
    response = jsonify(error_body_for_this_door()(error))
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    if status == 404:
        return RouteNotFound("no route for this path; see the README for the routes this function serves")
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        # Connection: close, so the server does not read the rest of a body it refused.
        return PayloadTooLarge(
            f"the body is larger than {limit} bytes (MAX_BODY_BYTES)" if limit else None,
            headers={"Connection": "close"},
        )
    if status == 405:
        allow = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        return MethodNotAllowed(
            f"this route accepts {allow}" if allow else None, headers={"Allow": allow} if allow else None
        )
    if 400 <= status < 500:
        return InvalidRequest(exc.description or exc.name, status=status, code=exc.name.replace(" ", ""))
    return InternalError()


def register_error_handlers(app: Flask) -> None:
    app.extensions[RENDERERS_KEY] = []

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_exception(exc: HTTPException) -> Response:
        return error_response(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # The traceback goes to the log with the request id; the caller gets no internals.
        log.exception("unhandled exception")
        return error_response(InternalError())
