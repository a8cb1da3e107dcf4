"""Errors as HTTP responses, in one place: every ApiError, werkzeug's own HTTP errors and anything
unexpected become the JSON body of the door that served the request, with the error's status, code
and headers. The default body is ``{"status_code", "request_id", "code", "message"}``; a door with its
own shape (OpenAI's, under /v1/) registers it with `use_error_body`.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from core.errors import ApiError, InternalError, InvalidRequest, MethodNotAllowed, PayloadTooLarge, RouteNotFound
from web.tracking import current_request_id, note

log = logging.getLogger("qwenfc")


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


# A door's error body, from the error and this function's request id; and its status for an error.
ErrorBody = Callable[[ApiError, str], dict[str, Any]]
ErrorStatus = Callable[[ApiError], int]
RENDERERS_KEY = "qwenfc.error_bodies"


def _own_status(error: ApiError) -> int:
    return error.status


def use_error_body(app: Flask, path_prefix: str, body: ErrorBody, status: ErrorStatus = _own_status) -> None:
    """Errors on paths under `path_prefix` get `body` instead of the default JSON shape.

    A door with its own error format (OpenAI's) registers it here; the code and the headers still
    come from the one hierarchy above, and so does the status unless the door's protocol says
    otherwise for an error (`status`: OpenAI's 404 for a model DashScope does not know).
    """
    app.extensions[RENDERERS_KEY].append((path_prefix, body, status))


def _error_shape_for_path(path: str) -> tuple[ErrorBody, ErrorStatus]:
    # The longest prefix wins (/v1/messages is Anthropic's door inside OpenAI's /v1/), whatever the order
    # the doors registered in.
    found = [entry for entry in current_app.extensions[RENDERERS_KEY] if path.startswith(entry[0])]
    if found:
        _prefix, body, status = max(found, key=lambda entry: len(entry[0]))
        return body, status
    return error_body, _own_status


def error_response(error: ApiError) -> Response:
    """The response an error becomes on this request's door."""
    limit = getattr(error, "limit", None)  # which limit refused the call (DashScope's, or the caller's)
    note(error_code=error.code, **({"limit": limit} if limit else {}))
    body, status = _error_shape_for_path(request.path)
    response = jsonify(body(error, current_request_id()))
    response.status_code = status(error)
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


def init_app(app: Flask) -> None:
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
