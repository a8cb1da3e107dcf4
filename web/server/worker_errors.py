"""The gunicorn worker's own answers (web/server/worker.py): gunicorn's errors and the worker's refusals as the
function's JSON error body, with a request id and one log line like any request's."""

from __future__ import annotations

import logging
import ssl
from typing import Any

from gunicorn.http import errors as http_errors
from werkzeug.http import HTTP_STATUS_CODES

from web.json_output import log_json

log = logging.getLogger("qwenfc")

# The status gunicorn gives each of its errors (workers/base.py, Worker.handle_error); anything
# else raised before the app answers is a 500.
_STATUS_BY_ERROR: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    ((http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName), 500),
    (http_errors.LimitRequestLine, 414),
    (http_errors.LimitRequestHeaders, 431),
    (http_errors.UnsupportedTransferCoding, 501),
    (http_errors.ExpectationFailed, 417),
    (http_errors.ConfigurationProblem, 500),
    ((http_errors.ForbiddenProxyRequest, ssl.SSLError), 403),
    ((http_errors.ParseException, http_errors.InvalidH2CPreface), 400),
)


def status_for(exc: BaseException) -> int:
    for errors, status in _STATUS_BY_ERROR:
        if isinstance(exc, errors):
            return status
    return 500


def json_error_response(status: int, message: str, request_id: str, code: str | None = None) -> bytes:
    """A complete HTTP/1.1 response carrying the function's error body; the connection closes."""
    code = code or {500: "InternalError", 413: "PayloadTooLarge"}.get(status) or HTTP_STATUS_CODES[status].replace(" ", "")
    body = log_json({"status_code": status, "request_id": request_id, "code": code, "message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTP_STATUS_CODES[status]}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nX-Request-Id: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def log_refused(status: int, message: str, request_id: str, req: Any = None) -> None:
    """The request's one log line, as web/tracking.py writes it for requests the app serves."""
    fields = {"method": getattr(req, "method", None), "path": getattr(req, "path", None), "status": status}
    fields["error"] = message
    log.handle(log.makeRecord(log.name, logging.WARNING, "", 0, "request refused by the server", (), None,
                              extra={"fields": fields, "request_id": request_id}))
