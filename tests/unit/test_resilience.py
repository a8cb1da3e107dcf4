"""What may be retried, and how long DashScope asked us to wait (core/upstream/resilience.py): pure
decisions, no upstream. Retries against the emulator are tests/app/test_hardening.py."""

from __future__ import annotations

import pytest

from core.errors import (
    CallDeadlineExceeded,
    InvalidRequest,
    UpstreamError,
    UpstreamKeyRefused,
    UpstreamStreamIncomplete,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from core.upstream.resilience import Retries, is_retryable, retry_after_s


@pytest.mark.parametrize(
    "error",
    [UpstreamError(status=429, code="Throttling"), UpstreamError(status=500), UpstreamError(status=503, code="ServiceUnavailable"), UpstreamUnreachable()],
)
def test_throttling_server_errors_and_failures_to_connect_are_retried(error):
    assert is_retryable(error)


@pytest.mark.parametrize(
    "error",
    [
        UpstreamTimeout(),
        CallDeadlineExceeded(),
        UpstreamStreamIncomplete(),
        UpstreamKeyRefused(),
        UpstreamError(status=400, code="InvalidParameter"),
        UpstreamError(status=404, code="ModelNotFound"),
        InvalidRequest("the caller's mistake"),
        RuntimeError("a bug"),
    ],
)
def test_timeouts_broken_streams_a_refused_key_and_other_4xx_are_not(error):
    assert not is_retryable(error)


@pytest.mark.parametrize("value, wait", [("2", 2.0), ("0.4", 0.4), ("-3", 0.0), ("Wed, 21 Oct 2026 07:28:00 GMT", None)])
def test_retry_after(value, wait):
    assert retry_after_s(UpstreamError(status=429, headers={"Retry-After": value})) == wait


def test_no_retry_after():
    assert retry_after_s(UpstreamError(status=429)) is None
    assert retry_after_s(RuntimeError("no headers")) is None
    assert retry_after_s(None) is None


def test_a_call_that_succeeds_is_made_once_and_reports_no_retry():
    """The first attempt runs bare (what that saves: scripts/benchmark/ab_retry.py)."""
    attempts: list[int] = []
    reported: list[int] = []
    retries = Retries(2, 0.001, on_retry=lambda attempt, _error: reported.append(attempt))
    assert retries(lambda: attempts.append(1) or "answer") == "answer"
    assert attempts == [1] and reported == []


def test_after_a_retryable_failure_tenacity_counts_it_as_its_first_attempt():
    attempts: list[int] = []
    reported: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise UpstreamError("busy", status=503)
        return "answer"

    retries = Retries(2, 0.001, on_retry=lambda attempt, _error: reported.append(attempt))
    assert retries(flaky) == "answer"
    assert len(attempts) == 2 and reported == [1]  # the bare first failure counted as attempt 1


def test_the_bare_first_failure_counts_toward_the_retry_limit():
    """RETRIES=2 is three attempts in all, the bare first one included; the last failure is raised."""
    attempts: list[int] = []
    reported: list[int] = []

    def busy() -> str:
        attempts.append(1)
        raise UpstreamError("busy", status=503)

    with pytest.raises(UpstreamError, match="busy"):
        Retries(2, 0.001, on_retry=lambda attempt, _error: reported.append(attempt))(busy)
    assert len(attempts) == 3 and reported == [1, 2]


def test_a_failure_that_is_not_retryable_is_raised_at_once():
    def refused() -> str:
        raise UpstreamError("bad", status=400)

    with pytest.raises(UpstreamError):
        Retries(2, 0.001)(refused)
