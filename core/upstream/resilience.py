"""How the upstream client stays well behaved: retries with backoff, the in-flight limit, and the
deadline of one call. Nothing here knows the SDK: it works on our own errors (core/errors.py).
"""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from core.errors import (
    ApiError,
    CallDeadlineExceeded,
    InstanceStopping,
    Overloaded,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamKeyRefused,
    UpstreamQuotaExhausted,
    UpstreamStreamIncomplete,
    UpstreamThrottled,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from core.upstream.limits import retried_here

T = TypeVar("T")
# A Retry-After longer than this is not waited out: the caller gets the 429 (and the Retry-After).
LONGEST_RETRY_AFTER_S = 10.0


def is_retryable(error: BaseException) -> bool:
    """What a retry can fix within seconds: DashScope's burst protection and its other unnamed 429s, 5xx
    and failures to connect. Never a per-minute limit (RPM, TPM) nor a spent quota: those go back to
    the caller at once, with Retry-After (core/upstream/limits.py), so that its own retries do not
    stack on ours. Never a timeout or a broken stream: the model may still be generating (or has
    generated) what a retry would pay for twice. Never the function's own key refused (it will be
    refused again), nor an answer that could not be read. Never another 4xx."""
    if isinstance(error, (UpstreamTimeout, UpstreamStreamIncomplete, UpstreamKeyRefused, UpstreamBadResponse,
                          UpstreamQuotaExhausted)):
        return False
    if isinstance(error, UpstreamThrottled):
        return retried_here(error.limit)
    if isinstance(error, UpstreamUnreachable):
        return True
    return isinstance(error, UpstreamError) and (error.status == 429 or error.status >= 500)


def retry_after_s(error: BaseException | None) -> float | None:
    """The wait DashScope asked for (Retry-After, in seconds), if any."""
    value = getattr(error, "headers", {}).get("Retry-After") if error is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def _failure(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome else None


class _Backoff:
    """Exponential backoff with jitter, unless DashScope said how long to wait (Retry-After)."""

    def __init__(self, first_s: float) -> None:
        self._exponential = wait_exponential_jitter(multiplier=first_s, max=first_s * 16, jitter=first_s)

    def __call__(self, state: RetryCallState) -> float:
        hinted = retry_after_s(_failure(state))
        return hinted if hinted is not None else self._exponential(state)


def _waits_too_long(state: RetryCallState) -> bool:
    hinted = retry_after_s(_failure(state))
    return hinted is not None and hinted > LONGEST_RETRY_AFTER_S


class Retries:
    """Runs an operation, again after what `is_retryable` allows, up to `retries` more times.

    Built once per client: tenacity keeps each call's state in the call. Every attempt goes through
    tenacity: running the first one bare saved about 9 µs of tenacity's bookkeeping, which measured
    within the noise of a whole upstream call (scripts/benchmark/ab_retry.py), so it went.
    """

    def __init__(
        self, retries: int, first_backoff_s: float, on_retry: Callable[[int, ApiError], None] | None = None
    ) -> None:
        self._on_retry = on_retry
        self._retrying = Retrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(retries + 1) | _waits_too_long,
            wait=_Backoff(first_backoff_s),
            before_sleep=self._report,
            reraise=True,
        )

    def _report(self, state: RetryCallState) -> None:
        error = _failure(state)
        if self._on_retry is not None and isinstance(error, ApiError):
            self._on_retry(state.attempt_number, error)

    def __call__(self, operation: Callable[[], T]) -> T:
        return self._retrying(operation)


class CallSlot:
    """One of the MAX_IN_FLIGHT slots, taken before a call's body is read and held until the call
    (or its stream) has ended. `release` may be called any number of times; it frees the slot once."""

    __slots__ = ("_slots", "_lock")

    def __init__(self, slots: threading.BoundedSemaphore | None) -> None:
        self._slots = slots
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            slots, self._slots = self._slots, None
        if slots is not None:
            slots.release()


class InFlightLimit:
    """At most `limit` calls at once (None: no limit); one more is refused at once, never queued."""

    __slots__ = ("_slots",)

    def __init__(self, limit: int | None) -> None:
        self._slots = threading.BoundedSemaphore(limit) if limit else None

    def take(self) -> CallSlot:
        if self._slots is not None and not self._slots.acquire(blocking=False):
            raise Overloaded()
        return CallSlot(self._slots)


# When the instance stops (perf_counter seconds; set by web/lifecycle.py at SIGTERM): every call
# still running then ends with InstanceStopping, whatever DashScope does.
_stop_at: float | None = None


def stop_calls_at(when: float) -> None:
    """Calls in flight must have ended by `when` (perf_counter seconds). Safe in a signal handler."""
    global _stop_at
    _stop_at = when


class Deadline:
    """The time one call may take in all, retries and every chunk of a stream included
    (CALL_DEADLINE_S); None means no limit. UPSTREAM_TIMEOUT_S only bounds one silence. The instance's
    stop (`stop_calls_at`) ends every call too. Reads from DashScope end by `reads_end()`, however
    DashScope trickles its bytes (core/upstream/read_deadline.py)."""

    __slots__ = ("_limit_s", "_ends")

    def __init__(self, limit_s: float | None) -> None:
        self._limit_s = limit_s
        self._ends = time.perf_counter() + limit_s if limit_s else None

    def reads_end(self) -> float | None:
        """When reads from DashScope must have ended: the deadline or the instance's stop, if sooner."""
        stop = _stop_at
        if stop is None:
            return self._ends
        return stop if self._ends is None else min(stop, self._ends)

    def exceeded(self) -> ApiError | None:
        """The error to raise when the instance is stopping (InstanceStopping) or the deadline has
        passed (CallDeadlineExceeded), else None."""
        if _stop_at is not None and time.perf_counter() >= _stop_at:
            return InstanceStopping()
        if self._ends is None or time.perf_counter() < self._ends:
            return None
        return CallDeadlineExceeded(
            f"the call ran longer than this function allows (CALL_DEADLINE_S, {self._limit_s:g} s)"
        )

    def check(self) -> None:
        late = self.exceeded()
        if late is not None:
            raise late

    def read_timeout(self, timeout_s: float) -> float:
        """Each read waits at most `timeout_s`, and never past the deadline."""
        return timeout_s if self._ends is None else min(timeout_s, self._ends - time.perf_counter())
