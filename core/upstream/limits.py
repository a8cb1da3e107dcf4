"""DashScope's limits told apart: which one refused a call, what to tell the caller, and when to retry.

DashScope answers every rate limit with a 429, and says which limit it was in its code and message
(Model Studio "错误码" page, help.aliyun.com/zh/model-studio/error-code; "限流" page,
help.aliyun.com/zh/model-studio/rate-limit, updated 2026-02):

| limit | code (native / compatible) | message |
|---|---|---|
| requests per minute (RPM, also enforced per second) | `Throttling.RateQuota` / `limit_requests` | "Requests rate limit exceeded, please try again later." / "You exceeded your current requests list." |
| tokens per minute (TPM, also per second) | `Throttling.AllocationQuota` / `insufficient_quota` | "Allocated quota exceeded, please increase your quota limit." / "You exceeded your current quota, ..." |
| burst ("stability protection", below RPM and TPM) | `Throttling.BurstRate` / `limit_burst_rate` | "Request rate increased too quickly. ..." |
| free quota spent, "use free tier only" on | 403 `AllocationQuota.FreeTierOnly` | "The free tier of the model has been exhausted. ..." |
| free quota spent, model not billable | 429 `Throttling.AllocationQuota` | "Free allocated quota exceeded." |
| overdue bill | 400 `Arrearage`; 429 `PrepaidBillOverdue`, `PostpaidBillOverdue`, `CommodityNotPurchased` | "Access denied, please make sure your account is in good standing." |

What the function does with each (resilience.py retries only what `retried_here` allows):
- **burst**: retried here, with backoff: DashScope's own advice is to smooth and back off, and a retry
  a second later can succeed. The other, undifferentiated 429s (`Throttling`, "Requests throttling
  triggered.") are retried as before.
- **RPM and TPM**: returned at once, with DashScope's Retry-After, or `PER_MINUTE_RETRY_AFTER_S` (the
  rate-limit page: a throttled account "typically recovers automatically within one minute"). A retry
  here would count against the same limit and stack on the client's own retries.
- **Quota and billing**: returned at once, without Retry-After (waiting does not help), with
  `x-should-retry: false` (the OpenAI SDKs' header for "do not retry this").
"""

from __future__ import annotations

from core.errors import UpstreamError, UpstreamQuotaExhausted, UpstreamThrottled

PER_MINUTE_RETRY_AFTER_S = 60

_BILLING_CODES = frozenset({"Arrearage", "PrepaidBillOverdue", "PostpaidBillOverdue", "CommodityNotPurchased"})
_FREE_QUOTA_CODES = frozenset({"AllocationQuota.FreeTierOnly"})
# (limit, DashScope's codes for it, what its messages say), checked in this order: "Free allocated
# quota exceeded." comes before TPM's "Allocated quota exceeded".
_THROTTLES = (
    ("burst", frozenset({"Throttling.BurstRate", "limit_burst_rate"}), ("request rate increased too quickly",)),
    ("tpm", frozenset({"Throttling.AllocationQuota", "insufficient_quota"}),
     ("allocated quota exceeded", "exceeded your current quota")),
    ("rpm", frozenset({"Throttling.RateQuota", "LimitRequests", "limit_requests"}),
     ("requests rate limit exceeded", "exceeded your current requests list", "exceeded your request limit")),
)

WHAT_IT_MEANS = {
    "rpm": "DashScope's requests-per-minute limit (RPM, also enforced per second) for this model, counted over "
           "the function owner's whole Alibaba Cloud account, was reached; retry after {retry_after} s",
    "tpm": "DashScope's tokens-per-minute limit (TPM, also enforced per second) for this model, counted over the "
           "function owner's whole Alibaba Cloud account, was reached; retry after {retry_after} s",
    "burst": "DashScope's burst protection: calls to this model rose too quickly, even below the RPM and TPM "
             "limits; back off briefly and send calls more evenly",
    "throttling": "DashScope is throttling calls; retry shortly",
    "free_quota": "the free quota of the function owner's DashScope account is spent for this model; waiting will "
                  "not help: the owner must turn off \"use free tier only\" in the Model Studio console (or pick "
                  "another model)",
    "billing": "the function owner's Alibaba Cloud account has an overdue bill; waiting will not help: the owner "
               "must settle it in the Alibaba Cloud console",
}


def limit_of(status: int, code: str, message: str) -> str | None:
    """Which of DashScope's limits an error names, or None when it names none."""
    if code in _BILLING_CODES:
        return "billing"
    if code in _FREE_QUOTA_CODES:
        return "free_quota"
    if status != 429:  # a 400 Throttling.AllocationQuota counts voices or hot words: neither quota nor rate
        return None
    text = message.lower() if isinstance(message, str) else ""
    if "free allocated quota exceeded" in text:
        return "free_quota"
    for limit, codes, phrases in _THROTTLES:
        if code in codes or any(phrase in text for phrase in phrases):
            return limit
    return "throttling" if code.startswith("Throttling") else None


def retried_here(limit: str) -> bool:
    """Whether a retry inside the function can succeed within seconds."""
    return limit in ("burst", "throttling")


def limit_error(
    limit: str, status: int, code: str, message: str, retry_after: str | None, request_id: str | None
) -> UpstreamError:
    """The error for a call DashScope refused under `limit`: DashScope's status, code and message, with
    what it means appended, and the Retry-After the caller should honour."""
    headers: dict[str, str] = {}
    if limit in ("free_quota", "billing"):
        headers["x-should-retry"] = "false"
        meaning = WHAT_IT_MEANS[limit]
        return UpstreamQuotaExhausted(f"{message} ({meaning})", limit=limit, status=status, code=code,
                                      upstream_request_id=request_id, headers=headers)
    if retry_after is None and not retried_here(limit):
        retry_after = str(PER_MINUTE_RETRY_AFTER_S)
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    meaning = WHAT_IT_MEANS[limit].format(retry_after=retry_after)
    return UpstreamThrottled(f"{message} ({meaning})", limit=limit, status=status, code=code,
                             upstream_request_id=request_id, headers=headers)
