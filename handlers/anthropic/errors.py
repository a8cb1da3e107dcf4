"""Anthropic's error body, `{"type": "error", "error": {"type", "message"}}`, with the status its
clients expect for each kind (docs.anthropic.com/en/api/errors): a model not found is a 404
`not_found_error` (natively a 400), the rest keep the function's own status."""

from __future__ import annotations

from typing import Any

from core.errors import ApiError, ModelNotFound, UpstreamModelNotFound

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def anthropic_error_status(error: ApiError) -> int:
    if isinstance(error, (ModelNotFound, UpstreamModelNotFound)):
        return 404
    return error.status


def anthropic_error_body(error: ApiError, _request_id: str = "") -> dict[str, Any]:
    """The body (also the data of a stream's `error` event). The request id is in X-Request-Id."""
    status = anthropic_error_status(error)
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": error.message}}
