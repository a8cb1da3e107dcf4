"""DashScope's limit errors, as ``[[emulate limit=NAME]]`` asks for them (``retry_after=S`` adds a
Retry-After header; DashScope's docs do not say it sends one).

Each is DashScope's status, native code, compatible-mode code and message, as its error-code page lists
them (Model Studio "错误码", help.aliyun.com/zh/model-studio/error-code: 429-Throttling.RateQuota /
limit_requests, 429-Throttling.BurstRate / limit_burst_rate, 429-Throttling.AllocationQuota /
insufficient_quota, 403-AllocationQuota.FreeTierOnly, 400-Arrearage), and its rate-limit page tells
them apart by message (help.aliyun.com/zh/model-studio/rate-limit, updated 2026-02: "Requests rate
limit exceeded" is RPM, "Allocated quota exceeded" is TPM, "Request rate increased too quickly" is a
burst):

- ``rpm``: 429 ``Throttling.RateQuota`` (compatible mode ``limit_requests``)
- ``tpm``: 429 ``Throttling.AllocationQuota`` (``insufficient_quota``)
- ``burst``: 429 ``Throttling.BurstRate`` (``limit_burst_rate``)
- ``free_tier``: 403 ``AllocationQuota.FreeTierOnly``: the free quota is spent and "use free tier only" is on
- ``free_quota``: 429 ``Throttling.AllocationQuota`` "Free allocated quota exceeded.": spent, model not billable
- ``arrearage``: 400 ``Arrearage``: the account has an overdue bill
"""

from __future__ import annotations

from typing import Any

# name -> (status, native code, compatible-mode code, message)
LIMITS: dict[str, tuple[int, str, str, str]] = {
    "rpm": (429, "Throttling.RateQuota", "limit_requests", "Requests rate limit exceeded, please try again later."),
    "tpm": (429, "Throttling.AllocationQuota", "insufficient_quota",
            "Allocated quota exceeded, please increase your quota limit."),
    "burst": (429, "Throttling.BurstRate", "limit_burst_rate",
              "Request rate increased too quickly. To ensure system stability, please adjust your client logic "
              "to scale requests more smoothly over time."),
    "free_tier": (403, "AllocationQuota.FreeTierOnly", "AllocationQuota.FreeTierOnly",
                  "The free tier of the model has been exhausted. If you wish to continue access the model on a "
                  "paid basis, please disable the \"use free tier only\" mode in the management console."),
    "free_quota": (429, "Throttling.AllocationQuota", "insufficient_quota", "Free allocated quota exceeded."),
    "arrearage": (400, "Arrearage", "Arrearage", "Access denied, please make sure your account is in good standing."),
}


# DashScope's message for a code a ``status=`` directive names without a ``message=`` (the error-code
# page: 429-Throttling is "Requests throttling triggered.").
MESSAGES_BY_CODE = {"Throttling": "Requests throttling triggered."} | {
    code: message for name, (_status, code, _compatible, message) in LIMITS.items() if name != "free_quota"
}


def limit_refusal(directives: dict[str, str]) -> Any:
    """The refusal ``limit=NAME`` asks for; an unknown name is the test's mistake, said plainly."""
    from .errors import Refusal  # errors -> compatible -> directives -> this table: imported when used

    name = directives["limit"]
    if name not in LIMITS:
        raise Refusal(400, "InvalidParameter", f"[[emulate limit={name}]]: the emulator knows {', '.join(LIMITS)}")
    status, code, compatible_code, message = LIMITS[name]
    return Refusal(status, code, message, directives.get("retry_after"), compatible_code=compatible_code)
