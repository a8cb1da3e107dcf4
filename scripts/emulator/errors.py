"""A refused request, and the error body each API writes for it."""

from __future__ import annotations

from flask import Response, jsonify

from . import compatible


class Refusal(Exception):
    """A request DashScope would refuse: its status, code, message (and Retry-After, if any)."""

    def __init__(
        self, status: int, code: str | None, message: str, retry_after: str | None = None,
        compatible_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after
        # Compatible mode's own code where it has one (limit_requests for Throttling.RateQuota, ...):
        # it is then the error's `type` too, as DashScope's compatible-mode limit errors show.
        self.compatible_code = compatible_code


def native_error(refusal: Refusal, request_id: str) -> Response:
    response = jsonify({"code": refusal.code or "InternalError", "message": refusal.message, "request_id": request_id})
    response.status_code = refusal.status
    if refusal.retry_after:
        response.headers["Retry-After"] = refusal.retry_after
    return response


def compatible_error(refusal: Refusal, request_id: str) -> Response:
    # Compatible mode has its own codes for the emulator's own checks; a directive's code= is kept.
    code = None if refusal.code in ("InvalidApiKey", "InvalidParameter") else refusal.code
    if refusal.compatible_code:
        code = refusal.compatible_code
    response = compatible.error(refusal.status, code, refusal.message, request_id, kind=refusal.compatible_code)
    if refusal.retry_after:
        response.headers["Retry-After"] = refusal.retry_after
    return response
