"""The DashScope adapter: the only module that imports `dashscope`.

It sends a `GenerationCall` through the official SDK and turns what comes back into our own types:
`Completion` for a result or a stream chunk, and `core.errors` exceptions for every failure, so the
views never see an SDK object or an SDK exception.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
import types
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import Any, Callable, Iterator, TypeVar

import requests
import requests.utils
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from urllib3.exceptions import ReadTimeoutError

from core.errors import (
    ApiError,
    CallDeadlineExceeded,
    InvalidRequest,
    Overloaded,
    UpstreamError,
    UpstreamKeyRefused,
    UpstreamStreamIncomplete,
    UpstreamTimeout,
    UpstreamUnreachable,
)

T = TypeVar("T")
log = logging.getLogger("qwenfc")
# A Retry-After longer than this is not waited out: the caller gets the 429 (and the Retry-After).
LONGEST_RETRY_AFTER_S = 10.0


def _import_generation() -> tuple[Any, str]:
    """Import the SDK's Generation API without the rest of the SDK; return it and the SDK's own
    default base URL.

    `import dashscope` runs the package's __init__, which loads every API the SDK has (its 2.0
    client, audio, embeddings, ...): about 1.1 s, most of a cold start. Generation needs about a
    third of that. So the package module is registered without running its __init__, with a PEP 562
    `__getattr__` that runs it the moment anything asks the package for more: nothing ever sees a
    half-made package. The legacy call path reads only `dashscope.base_http_api_url` (when no
    base_address is given: we always give one) and `dashscope.api_key` (when no key is given: we
    always give one). Should any of this fail (a new SDK, say), the SDK is imported normally, which
    needs every extra the SDK declares (the FC package ships none of them: requirements.txt).
    """
    if "dashscope" not in sys.modules:
        spec = importlib.util.find_spec("dashscope")
        if spec is not None and spec.loader is not None:
            package = importlib.util.module_from_spec(spec)

            def complete_package(name: str) -> Any:
                del package.__getattr__  # type: ignore[attr-defined]
                spec.loader.exec_module(package)  # type: ignore[union-attr]
                return getattr(package, name)

            package.__getattr__ = complete_package  # type: ignore[attr-defined]
            sys.modules["dashscope"] = package
            _without_request_encryption()
            try:
                from dashscope.aigc.generation import Generation as generation
                from dashscope.common import env as sdk_env

                return generation, sdk_env.base_http_api_url
            except Exception:  # noqa: BLE001 - fall back to the ordinary import below
                for name in [name for name in sys.modules if name == "dashscope" or name.startswith("dashscope.")]:
                    del sys.modules[name]
    import dashscope

    return dashscope.Generation, dashscope.base_http_api_url


class _RequestEncryptionNotShipped:
    """Stands in for the SDK's `Encryption` where `cryptography` is not installed (the FC package)."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        raise RuntimeError("DashScope request encryption needs the cryptography package, which this function does not ship")


def _without_request_encryption() -> None:
    """Let the SDK's request modules import without `cryptography` (about 5 MB of the FC package).

    They import `dashscope.api_entities.encryption` at the top, which imports `cryptography`, but use
    it only for `enable_encryption=True`: an SDK control argument no caller can pass
    (SDK_CONTROL_ARGUMENTS) and the function never does. Where `cryptography` is installed (the dev
    environment) the SDK's own module is used.
    """
    name = "dashscope.api_entities.encryption"
    if name in sys.modules or importlib.util.find_spec("cryptography") is not None:
        return
    placeholder = types.ModuleType(name, "DashScope request encryption, not shipped: see core/upstream.py")
    placeholder.Encryption = _RequestEncryptionNotShipped  # type: ignore[attr-defined]
    sys.modules[name] = placeholder


Generation, SDK_BASE_URL = _import_generation()

# The SDK logs every transport failure with a traceback under the "dashscope" logger. We report
# failures ourselves, once, in the request's log line; its messages would only duplicate them.
logging.getLogger("dashscope").setLevel(logging.CRITICAL)

# Keyword arguments of Generation.call that steer the SDK itself rather than the model. A request
# that names one of them would redirect the call (base_address), swap the key (api_key) or inject
# headers, so they can never pass through from a client.
SDK_CONTROL_ARGUMENTS = frozenset(
    {
        "api_key", "workspace", "plugins", "history", "headers", "session", "base_address",
        "request_timeout", "api_protocol", "http_method", "async_request", "ws_stream_mode",
        "is_binary_input", "query", "form", "resources", "flattened_output", "extra_url_parameters",
        "user_agent", "task_id", "enable_encryption", "pre_task_id", "sdk_module", "is_service",
        "task_group", "task", "function", "input", "customized_model_id", "model", "messages",
        "prompt", "stream",
    }
)

# Connections kept per host: one per concurrently running call, so a burst does not reconnect.
CONNECTION_POOL_SIZE = 256

@dataclass(frozen=True)
class GenerationCall:
    """One text-generation request as DashScope understands it."""

    model: str
    messages: list[dict[str, Any]] | None = None
    prompt: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """A DashScope result, or one chunk of a stream, as plain data."""

    request_id: str
    output: dict[str, Any]
    usage: dict[str, Any]

    @property
    def text(self) -> str:
        """The generated text this result (or chunk) carries, in either result format."""
        choices = self.output.get("choices") or []
        if choices and isinstance(choices[0], dict):
            return (choices[0].get("message") or {}).get("content") or ""
        return self.output.get("text") or ""

    @cached_property
    def finish_reason(self) -> str | None:
        # Cached: a stream asks once per chunk to know whether it is over, and once for the log line.
        reason = self.output.get("finish_reason")
        choices = self.output.get("choices") or []
        if choices and isinstance(choices[0], dict):
            reason = choices[0].get("finish_reason") or reason
        # DashScope marks a chunk that is not the last with the string "null".
        return reason if reason and reason != "null" else None


_NESTED = (dict, list)


def _plain(value: Any) -> Any:
    """Copy SDK dict subclasses (GenerationOutput, Choice, Message) into plain dicts and lists.

    Runs on every stream chunk: leaves (most values) are copied inline, without a call each.
    """
    if isinstance(value, dict):
        return {key: _plain(item) if isinstance(item, _NESTED) else item for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) if isinstance(item, _NESTED) else item for item in value]
    return value


# HTTP status by DashScope error code (prefix), for errors that arrive as an SSE event: the SDK
# reports those as 400 unless the event carries a status line, which DashScope's events do not.
STATUS_BY_CODE_PREFIX = (
    ("Throttling", 429),
    ("InvalidApiKey", 401),
    ("AccessDenied", 403),
    ("ModelNotFound", 404),
    ("InternalError", 500),
    ("SystemError", 500),
    ("ModelUnavailable", 503),
    ("ServiceUnavailable", 503),
    ("RequestTimeOut", 504),
)


def _status_for_code(code: str, reported: int) -> int:
    if reported != HTTPStatus.BAD_REQUEST:
        return reported
    for prefix, status in STATUS_BY_CODE_PREFIX:
        if code.startswith(prefix):
            return status
    return reported


def _error_from_response(response: Any, in_stream: bool = False) -> UpstreamError:
    status = int(response.status_code or 502)
    code = response.code or "UpstreamError"
    if in_stream:
        status = _status_for_code(code, status)
    if status == HTTPStatus.UNAUTHORIZED:
        # The function's own key was refused: the owner's fault, said loudly (the key itself never).
        log.error("DashScope refused this function's DASHSCOPE_API_KEY (%s %s): every call fails until "
                  "the function is redeployed with a valid key", status, code)
        return UpstreamKeyRefused(upstream_request_id=response.request_id)
    message = response.message
    if code == "Unknown" or not isinstance(message, str):
        # The body was not DashScope's JSON (a proxy's HTML page, say): name the status, not the page.
        message = f"DashScope answered HTTP {status} with a body that is not a DashScope error"
    retry_after = (response.headers or {}).get("Retry-After") if status == 429 else None
    return UpstreamError(
        message,
        status=status,
        code=code,
        upstream_request_id=response.request_id,
        headers={"Retry-After": retry_after} if retry_after else None,
    )


def _is_retryable(error: BaseException) -> bool:
    """429s, 5xx and failures to connect. Never a timeout or a broken stream: the model may still be
    generating (or has generated) what a retry would pay for twice. Never another 4xx."""
    if isinstance(error, (UpstreamTimeout, UpstreamStreamIncomplete, UpstreamKeyRefused)):
        return False
    if isinstance(error, UpstreamUnreachable):
        return True
    return isinstance(error, UpstreamError) and (error.status == 429 or error.status >= 500)


def _retry_after_s(error: BaseException | None) -> float | None:
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
        hinted = _retry_after_s(_failure(state))
        return hinted if hinted is not None else self._exponential(state)


def _waits_too_long(state: RetryCallState) -> bool:
    hinted = _retry_after_s(_failure(state))
    return hinted is not None and hinted > LONGEST_RETRY_AFTER_S


def _completion(response: Any) -> Completion:
    return Completion(
        request_id=response.request_id or "",
        output=_plain(response.output) or {},
        usage=_plain(response.usage) or {},
    )


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


class _InFlightLimit:
    """At most `limit` calls at once (None: no limit); one more is refused at once, never queued."""

    __slots__ = ("_slots",)

    def __init__(self, limit: int | None) -> None:
        self._slots = threading.BoundedSemaphore(limit) if limit else None

    def take(self) -> CallSlot:
        if self._slots is not None and not self._slots.acquire(blocking=False):
            raise Overloaded()
        return CallSlot(self._slots)


def pooled_session(base_url: str) -> requests.Session:
    """The one HTTP session every DashScope call goes through, with what the environment says about
    reaching `base_url` settled now, once.

    By default requests re-reads the environment on every call (`trust_env`): it walks every
    variable for proxy settings and looks for ~/.netrc, which measured 0.4 ms a call with 35
    variables and 0.7 ms with 75 (FC sets dozens). The proxies (HTTPS_PROXY, NO_PROXY, ...) and CA
    bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) it would have found are read here instead, for the
    one host this session calls. .netrc is not read at all: an entry for DashScope's host would
    have replaced the API key with its password.
    """
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(base_url)
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=CONNECTION_POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class QwenUpstream:
    """Calls DashScope's text generation through the official SDK on a shared connection pool.

    It retries what is worth retrying (`_is_retryable`), before a stream's first event only. `admit`
    refuses a call at once (Overloaded, 429) when `max_in_flight` calls are already running: the
    doors ask before they read the body, and hold the slot until the call or its stream ends.
    """

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout_s: float,
        retries: int = 0,
        first_backoff_s: float = 0.5,
        max_in_flight: int | None = None,
        on_retry: Callable[[int, ApiError], None] | None = None,
        call_deadline_s: float | None = None,
    ) -> None:
        self._api_key = api_key
        # Always given to the SDK: its own default (DashScope, or what DASHSCOPE_HTTP_BASE_URL and
        # DASHSCOPE_API_REGION say) unless configured otherwise.
        self._base_url = base_url or SDK_BASE_URL
        self._timeout_s = timeout_s
        # The longest one call may take in all (retries and every chunk of a stream included).
        self._call_deadline_s = call_deadline_s
        self._session: requests.Session | None = None
        self._in_flight = _InFlightLimit(max_in_flight)
        self._on_retry = on_retry
        # Built once: tenacity keeps each call's state in the call (and thread-local statistics).
        self._retrying = (
            Retrying(
                retry=retry_if_exception(_is_retryable),
                stop=stop_after_attempt(retries + 1) | _waits_too_long,
                wait=_Backoff(first_backoff_s),
                before_sleep=self._report_retry,
                reraise=True,
            )
            if retries
            else None
        )

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = pooled_session(self._base_url)
        return self._session

    def admit(self) -> CallSlot:
        """A slot for one call, or Overloaded (429) when `max_in_flight` calls are running."""
        return self._in_flight.take()

    def warm(self) -> None:
        """Build the connection pool ahead of the first call (FC's /initialize hook)."""
        _ = self.session

    def _deadline(self) -> float | None:
        return time.perf_counter() + self._call_deadline_s if self._call_deadline_s else None

    def _past_deadline(self, deadline: float | None) -> CallDeadlineExceeded | None:
        if deadline is None or time.perf_counter() < deadline:
            return None
        return CallDeadlineExceeded(
            f"the call ran longer than this function allows (CALL_DEADLINE_S, {self._call_deadline_s:g} s)"
        )

    def _sdk_call(self, call: GenerationCall, stream: bool, deadline: float | None = None) -> Any:
        late = self._past_deadline(deadline)
        if late is not None:
            raise late
        # Each read waits at most UPSTREAM_TIMEOUT_S, and never past the call's deadline.
        timeout_s = self._timeout_s if deadline is None else min(self._timeout_s, deadline - time.perf_counter())
        kwargs: dict[str, Any] = dict(call.parameters)
        if call.messages is not None:
            kwargs["messages"] = call.messages
        if call.prompt is not None:
            kwargs["prompt"] = call.prompt
        try:
            return Generation.call(
                model=call.model,
                api_key=self._api_key,
                stream=stream,
                base_address=self._base_url,
                session=self.session,
                request_timeout=timeout_s,
                **kwargs,
            )
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes one of ours
            raise self._past_deadline(deadline) or _transport_error(exc) from exc

    def _report_retry(self, state: RetryCallState) -> None:
        error = _failure(state)
        if self._on_retry is not None and isinstance(error, ApiError):
            self._on_retry(state.attempt_number, error)

    def _with_retries(self, operation: Callable[[], T]) -> T:
        # The first attempt runs bare: most calls succeed, and tenacity's bookkeeping is for the rest.
        try:
            return operation()
        except ApiError as error:
            if self._retrying is None or not _is_retryable(error):
                raise
            first_failure: ApiError | None = error

        def replay_first_failure_then_call() -> T:
            # tenacity sees the failure that already happened as its attempt 1, so it counts,
            # waits and reports exactly as if it had made that attempt itself.
            nonlocal first_failure
            if first_failure is not None:
                failure, first_failure = first_failure, None
                raise failure
            return operation()

        return self._retrying(replay_first_failure_then_call)

    def _complete_once(self, call: GenerationCall, deadline: float | None) -> Completion:
        response = self._sdk_call(call, stream=False, deadline=deadline)
        if response.status_code != HTTPStatus.OK:
            raise _error_from_response(response)
        return _completion(response)

    def complete(self, call: GenerationCall) -> Completion:
        deadline = self._deadline()
        return self._with_retries(lambda: self._complete_once(call, deadline))

    @staticmethod
    def _next_chunk(responses: Iterator[Any], received: bool) -> Completion | None:
        """The next chunk, None at the end, or the failure as one of our errors."""
        try:
            response = next(responses)
        except StopIteration:
            return None
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes one of ours
            raise _transport_error(exc, during_stream=received) from exc
        if response.status_code != HTTPStatus.OK:
            raise _error_from_response(response, in_stream=True)
        return _completion(response)

    def _open_stream(self, call: GenerationCall, deadline: float | None) -> tuple[Iterator[Any], Completion | None]:
        responses = self._sdk_call(call, stream=True, deadline=deadline)
        try:
            return responses, self._next_chunk(responses, received=False)
        except UpstreamTimeout as timeout:
            responses.close()
            raise self._past_deadline(deadline) or timeout from timeout
        except BaseException:
            responses.close()
            raise

    def stream(self, call: GenerationCall, slot: CallSlot | None = None) -> Iterator[Completion]:
        """Yield chunks as DashScope sends them.

        Raises an UpstreamError for an error event, and UpstreamStreamIncomplete when the stream
        ends without a finish_reason: the SDK just stops iterating when the connection is cut.
        Opening the stream (up to its first event) is retried; nothing after that is. `slot` (from
        `admit`) is released when the stream ends, however it ends. Past the call's deadline it
        raises CallDeadlineExceeded (checked between chunks; a silent upstream is bounded by the
        read timeout, itself capped at the deadline).
        """
        deadline = self._deadline()
        try:
            responses, chunk = self._with_retries(lambda: self._open_stream(call, deadline))
            try:
                while chunk is not None:
                    yield chunk
                    if chunk.finish_reason is not None:
                        return
                    late = self._past_deadline(deadline)
                    if late is not None:
                        raise late
                    try:
                        chunk = self._next_chunk(responses, received=True)
                    except UpstreamTimeout as timeout:
                        raise self._past_deadline(deadline) or timeout from timeout
            finally:
                responses.close()
            raise UpstreamStreamIncomplete()
        finally:
            if slot is not None:
                slot.release()


def _is_timeout(exc: Exception) -> bool:
    # Reading a streamed body, requests re-raises urllib3's read timeout as a ConnectionError.
    return isinstance(exc, requests.exceptions.Timeout) or any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )


# What the SDK raises when it cannot build the request from what it was given (a lone surrogate it
# cannot encode, nesting it cannot copy, a value json cannot serialise, its own input checks): nothing
# was sent, and the same request would fail the same way again, so it is the caller's 400, never retried.
REQUEST_BUILD_FAILURES: tuple[type[BaseException], ...] = (UnicodeError, RecursionError, TypeError)
try:
    from dashscope.common import error as _sdk_error

    REQUEST_BUILD_FAILURES += tuple(
        getattr(_sdk_error, name)
        for name in ("InputRequired", "InputDataRequired", "ModelRequired", "InvalidInput", "InvalidModel",
                     "InvalidParameter", "UnsupportedDataType", "UnsupportedModel")
        if isinstance(getattr(_sdk_error, name, None), type)
    )
except ImportError:  # a future SDK without this module: the built-in failures above still apply
    pass


def _transport_error(exc: Exception, during_stream: bool = False) -> ApiError:
    if not during_stream and isinstance(exc, REQUEST_BUILD_FAILURES):
        return InvalidRequest(
            f"the request could not be turned into a DashScope request ({type(exc).__name__}); nothing was sent"
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return UpstreamUnreachable("could not connect to DashScope in time (ConnectTimeout)")
    if _is_timeout(exc):
        return UpstreamTimeout(f"DashScope sent nothing for the configured timeout ({type(exc).__name__})")
    if during_stream and isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        return UpstreamStreamIncomplete("the connection to DashScope broke in the middle of the stream")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return UpstreamUnreachable(f"could not connect to DashScope ({type(exc).__name__})")
    if isinstance(exc, requests.exceptions.RequestException):
        return UpstreamUnreachable(f"the request to DashScope failed ({type(exc).__name__})")
    return UpstreamError(f"the DashScope SDK failed ({type(exc).__name__})")
