"""The one error hierarchy: everything a caller can be told went wrong, each with its HTTP status and
its code. A leaf module: it imports nothing of ours, nor Flask, nor logging. How an error becomes a
response (each door's body, the request id) is the web layer's job (web/errors.py).
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of every error a caller sees. Subclasses fix the HTTP status and the code."""

    status: int = 500
    code: str = "InternalError"
    default_message: str = "internal error"
    # Where OpenAI's clients expect another status and code for the same failure (the /v1 door uses them).
    openai_status: int | None = None
    openai_code: str | None = None

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


class ModelNotFound(InvalidRequest):
    """A model DashScope no longer serves (retired: core/retired_models.py), refused before any call.
    DashScope's own answer is a 400 InvalidParameter ("Model not exist."), which /invoke and the native
    door keep; OpenAI's is a 404 `model_not_found` (the openai client's NotFoundError), which /v1 gives."""

    openai_status = 404
    openai_code = "model_not_found"


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


class RequestTimeout(ApiError):
    """The client did not send its whole body within REQUEST_READ_TIMEOUT_S: its slot and thread are
    released, and the connection is closed (where the rest of the body would start is unknown)."""

    status = 408
    code = "RequestTimeout"
    default_message = "the request body was not all sent in time"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Connection": "close"})


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UnsupportedMediaType"
    default_message = "the body is encoded in a way this function does not read"


class TransferCodingNotImplemented(ApiError):
    """A Transfer-Encoding other than chunked (gzip, say): the body cannot be read as sent."""

    status = 501
    code = "NotImplemented"
    default_message = "this Transfer-Encoding is not supported"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Connection": "close"})


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


class UpstreamModelNotFound(UpstreamError):
    """DashScope does not know the model (its 400 InvalidParameter "Model not exist."): kept as DashScope
    sent it on /invoke and the native door, OpenAI's 404 `model_not_found` on /v1."""

    openai_status = 404
    openai_code = "model_not_found"


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


class UpstreamThrottled(UpstreamError):
    """DashScope refused the call under one of its rate limits (429), told apart by its code and message
    (core/upstream/limits.py): `limit` is "rpm" (requests per minute, or per second), "tpm" (tokens per
    minute, or per second), "burst" (requests rose too quickly) or "throttling" (DashScope said no more)."""

    status = 429
    code = "Throttling"
    default_message = "DashScope is throttling calls"

    def __init__(self, message: str | None = None, *, limit: str, **kwargs: object) -> None:
        self.limit = limit
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class UpstreamQuotaExhausted(UpstreamError):
    """The owner's DashScope account may not call the model now, and waiting will not change that: its
    free quota is spent ("use free tier only" is on, or the model is free only), or a bill is overdue.
    `limit` is "free_quota" or "billing". DashScope's status is kept (403, 400 or 429)."""

    status = 403
    code = "AllocationQuota.FreeTierOnly"
    default_message = "the DashScope account's quota is spent"

    def __init__(self, message: str | None = None, *, limit: str, **kwargs: object) -> None:
        self.limit = limit
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class UpstreamUnreachable(UpstreamError):
    status = 502
    code = "UpstreamUnreachable"
    default_message = "could not connect to DashScope"


class UpstreamBadResponse(UpstreamError):
    """DashScope answered, but not with anything the SDK could read (an HTML page with status 200, a
    body of the wrong shape, a redirect): the same call would get the same answer, so never retried."""

    status = 502
    code = "UpstreamBadResponse"
    default_message = "DashScope's answer could not be read"


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
