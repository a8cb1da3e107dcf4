"""What a caller is told when its key, its limits or the caller store stop a call.

All are `core.errors.ApiError`s, so the one error mapper turns them into JSON with the right status.
The codes are OpenAI's (`rate_limit_exceeded`, `insufficient_quota`) so OpenAI clients react as they
do to OpenAI itself; `limit` names which limit refused the call, for logs and tests.
"""

from __future__ import annotations

from core.errors import ApiError


class CallerLimitExceeded(ApiError):
    """429: a per-caller or account-wide per-model limit is reached for now."""

    status = 429
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, limit: str, retry_after_s: int | None) -> None:
        # limit: "rpm", "tpm", "budget", "budget_reserved" (calls in progress hold the rest), "in_flight"
        # (the caller's share of the instance), "model_rpm" or "model_tpm".
        self.limit = limit
        self.retry_after_s = retry_after_s
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
        code = "insufficient_quota" if limit == "budget" else None
        super().__init__(message, code=code, headers=headers)


class ModelNotAllowedForCaller(ApiError):
    """403: the caller's key is valid but its allow-list does not include the model asked for."""

    status = 403
    code = "model_not_allowed"

    def __init__(self, caller: str, model: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"caller {caller!r} may not use model {model!r}; its models are: {', '.join(allowed)}",
            param="model",
        )


class CallerKeyRevoked(ApiError):
    """401: the key was revoked between the lookup and the admission of this call."""

    status = 401
    code = "invalid_api_key"
    default_message = "this caller key has been revoked"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="qwen-fc"'})


class CallerStoreUnavailable(ApiError):
    """503: the shared caller store (Redis/Tair) cannot be reached, so no limit can be checked.

    Fail closed: a call made with a caller key is refused rather than let through unlimited."""

    status = 503
    code = "CallerStoreUnavailable"
    default_message = (
        "the caller store (REDIS_URL) cannot be reached, so calls made with a caller key cannot be "
        "checked against their limits; retry shortly"
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": "1"})
