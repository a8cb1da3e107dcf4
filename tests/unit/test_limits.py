"""Which of DashScope's limits an error names, and what may be retried because of it
(core/upstream/limits.py): pure decisions on the codes and messages DashScope's error-code and
rate-limit pages list. Through every door against the emulator: tests/app/test_throttling.py."""

from __future__ import annotations

import pytest

from core.errors import UpstreamQuotaExhausted, UpstreamThrottled
from core.upstream.limits import PER_MINUTE_RETRY_AFTER_S, limit_error, limit_of
from core.upstream.resilience import is_retryable

RPM = "Requests rate limit exceeded, please try again later."
TPM = "Allocated quota exceeded, please increase your quota limit."
BURST = ("Request rate increased too quickly. To ensure system stability, please adjust your client logic to "
         "scale requests more smoothly over time.")
FREE_TIER = "The free tier of the model has been exhausted. If you wish to continue access the model on a paid basis, ..."


@pytest.mark.parametrize(
    "status, code, message, limit",
    [
        (429, "Throttling.RateQuota", RPM, "rpm"),
        (429, "Throttling.RateQuota", "You exceeded your current requests list.", "rpm"),
        (429, "Throttling.AllocationQuota", TPM, "tpm"),
        (429, "Throttling.AllocationQuota", "You exceeded your current quota, please check your plan and billing details.", "tpm"),
        (429, "Throttling.BurstRate", BURST, "burst"),
        # The message tells the limit even under the generic code (the rate-limit page's FAQ reads it so).
        (429, "Throttling", BURST, "burst"),
        (429, "Throttling", RPM, "rpm"),
        (429, "Throttling", "Requests throttling triggered.", "throttling"),
        (429, "Throttling.AllocationQuota", "Free allocated quota exceeded.", "free_quota"),
        (403, "AllocationQuota.FreeTierOnly", FREE_TIER, "free_quota"),
        (400, "Arrearage", "Access denied, please make sure your account is in good standing.", "billing"),
        (429, "PrepaidBillOverdue", "The prepaid bill is overdue.", "billing"),
        # A 400 Throttling.AllocationQuota counts voices or hot words: no rate limit at all.
        (400, "Throttling.AllocationQuota", "Free allocated quota exceeded.", None),
        (400, "Throttling.AllocationQuota", "您当前的配额为10", None),
        (400, "InvalidParameter", "Model not exist.", None),
        (503, "ModelUnavailable", "Model is unavailable, please try again later.", None),
    ],
)
def test_each_limit_is_told_apart(status, code, message, limit):
    assert limit_of(status, code, message) == limit


@pytest.mark.parametrize("limit", ["rpm", "tpm"])
def test_a_per_minute_limit_goes_back_at_once_with_a_retry_after(limit):
    error = limit_error(limit, 429, "Throttling.RateQuota", RPM, None, "req-1")
    assert isinstance(error, UpstreamThrottled) and error.limit == limit and error.status == 429
    assert error.headers == {"Retry-After": str(PER_MINUTE_RETRY_AFTER_S)}
    assert error.message.startswith(RPM) and ("per-minute" in error.message)
    assert not is_retryable(error)


def test_dashscopes_own_retry_after_wins():
    error = limit_error("rpm", 429, "Throttling.RateQuota", RPM, "7", None)
    assert error.headers["Retry-After"] == "7" and "retry after 7 s" in error.message


def test_a_burst_is_retried_here_and_invents_no_retry_after():
    error = limit_error("burst", 429, "Throttling.BurstRate", BURST, None, None)
    assert is_retryable(error) and "Retry-After" not in error.headers
    assert "burst" in error.message


@pytest.mark.parametrize("limit, status", [("free_quota", 403), ("billing", 400), ("free_quota", 429)])
def test_a_spent_quota_is_never_retried_and_says_so(limit, status):
    error = limit_error(limit, status, "AllocationQuota.FreeTierOnly", FREE_TIER, "5", None)
    assert isinstance(error, UpstreamQuotaExhausted) and error.status == status
    assert not is_retryable(error)
    assert error.headers == {"x-should-retry": "false"}  # waiting does not help: no Retry-After
    assert "waiting will not help" in error.message
