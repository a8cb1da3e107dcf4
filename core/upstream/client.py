"""QwenUpstream: DashScope calls as the rest of the function sees them.

`complete(call)` and `stream(call)` send a `GenerationCall` through the SDK (core/upstream/sdk.py) on
one pooled HTTP session (session.py), with retries, the in-flight limit and the call's deadline
(resilience.py). They return `Completion`s and raise `core.errors`, never anything of the SDK's.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterator

import requests

from core.errors import ApiError, UpstreamError, UpstreamStreamIncomplete
from core.models import is_stream_only_error
from core.result_shapes import assemble, choices, finish_reason
from core.types import Call, Completion, EmbeddingCall, GenerationCall, TokenizationCall
from core.upstream.sdk import SDK_BASE_URL, embed, next_chunk, result, send
from core.upstream.read_deadline import reading_within
from core.upstream.resilience import CallSlot, Deadline, InFlightLimit, Retries
from core.upstream.session import pooled_session
from core.upstream import tokens as input_tokens


class QwenUpstream:
    """Calls DashScope through the official SDK on a shared connection pool.

    It retries what is worth retrying (`resilience.is_retryable`), before a stream's first event
    only. `admit` refuses a call at once (Overloaded, 429) when `max_in_flight` calls are already
    running: the request path asks before it reads the body, and holds the slot until the call or
    its stream ends.
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
        workspace_id: str | None = None,
    ) -> None:
        self._api_key = api_key
        # The owner's DashScope workspace (DASHSCOPE_WORKSPACE_ID): named on every call, as the SDK's
        # `workspace` argument would, by the session all calls share.
        self._workspace_id = workspace_id
        # Always given to the SDK: its own default (DashScope, or what DASHSCOPE_HTTP_BASE_URL and
        # DASHSCOPE_API_REGION say) unless configured otherwise.
        self._base_url = base_url or SDK_BASE_URL
        self._timeout_s = timeout_s
        self._call_deadline_s = call_deadline_s
        self._session: requests.Session | None = None
        self._in_flight = InFlightLimit(max_in_flight)
        self._retries = Retries(retries, first_backoff_s, on_retry) if retries else None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = pooled_session(self._base_url)
            if self._workspace_id:
                self._session.headers["X-DashScope-WorkSpace"] = self._workspace_id
        return self._session

    def admit(self) -> CallSlot:
        """A slot for one call, or Overloaded (429) when `max_in_flight` calls are running."""
        return self._in_flight.take()

    def warm(self) -> None:
        """Build the connection pool ahead of the first call (FC's /initialize hook)."""
        _ = self.session

    def _send(self, call: GenerationCall | EmbeddingCall, stream: bool, deadline: Deadline) -> Any:
        deadline.check()
        try:
            with reading_within(deadline):  # a non-streamed answer is read here, in all
                return (embed if isinstance(call, EmbeddingCall) else send)(  # type: ignore[operator]
                    call,
                    stream,
                    api_key=self._api_key,
                    base_url=self._base_url,
                    session=self.session,
                    timeout_s=deadline.read_timeout(self._timeout_s),
                )
        except ApiError as error:
            raise deadline.exceeded() or error from error

    def _with_retries(self, operation: Callable[[], Any]) -> Any:
        return self._retries(operation) if self._retries is not None else operation()

    def complete(self, call: Call) -> Completion:
        """One answer. A call the model rules say must be streamed (`call.needs_stream`: it thinks) is
        streamed and assembled; so is a call DashScope refuses unstreamed ("only support stream
        mode") for a model the rules do not know, retried streamed once. An embedding call goes to
        TextEmbedding; a tokenizer call is answered here, with the SDK's bundled tokenizer."""
        if isinstance(call, TokenizationCall):
            return input_tokens.tokenize(call)
        if isinstance(call, EmbeddingCall):
            deadline = Deadline(self._call_deadline_s)
            return self._with_retries(lambda: result(self._send(call, False, deadline)))
        if call.needs_stream:
            return self._assembled(call)
        deadline = Deadline(self._call_deadline_s)
        try:
            return self._with_retries(lambda: result(self._send(call, False, deadline)))
        except UpstreamError as error:
            if error.status == 400 and is_stream_only_error(error.message):
                return self._assembled(call)
            raise _endpoint_named(error, call)

    def _assembled(self, call: GenerationCall) -> Completion:
        # Incremental chunks (Qwen 3.5 takes no other kind), put together as DashScope's own
        # non-streamed result (core/result_shapes.py). A stream that ends unfinished raises.
        streamed = dataclasses.replace(call, parameters={**call.parameters, "incremental_output": True})
        whole = assemble(
            {"request_id": chunk.request_id, "output": chunk.output, "usage": chunk.usage}
            for chunk in self.stream(streamed)
        )
        return Completion(request_id=whole["request_id"], output=whole["output"], usage=whole["usage"])

    def _open_stream(self, call: GenerationCall, deadline: Deadline) -> tuple[Iterator[Any], Completion | None]:
        responses = self._send(call, True, deadline)
        try:
            with reading_within(deadline):
                return responses, next_chunk(responses, received=False)
        except ApiError as error:
            responses.close()
            raise deadline.exceeded() or error from error
        except BaseException:
            responses.close()
            raise

    def stream(self, call: GenerationCall, slot: CallSlot | None = None) -> Iterator[Completion]:
        """Yield chunks as DashScope sends them.

        Raises an UpstreamError for an error event, and UpstreamStreamIncomplete when the stream
        ends without a finish_reason: the SDK just stops iterating when the connection is cut.
        Opening the stream (up to its first event) is retried; nothing after that is. `slot` (from
        `admit`) is released when the stream ends, however it ends. Past the call's deadline it
        raises CallDeadlineExceeded, and InstanceStopping once the instance stops: every read from
        DashScope ends by then, however DashScope sends its bytes (read_deadline.py).
        """
        deadline = Deadline(self._call_deadline_s)
        # With `n` > 1 each packet carries one choice: the stream is over when every choice has finished.
        expected = call.parameters.get("n") or 1
        end = _StreamEnd(expected)
        try:
            try:
                responses, chunk = self._with_retries(lambda: self._open_stream(call, deadline))
            except UpstreamError as error:
                raise _endpoint_named(error, call)
            try:
                while chunk is not None:
                    yield chunk
                    if end.over(chunk.output) if expected > 1 else chunk.finish_reason is not None:
                        return
                    deadline.check()
                    try:
                        with reading_within(deadline):
                            chunk = next_chunk(responses, received=True)
                    except ApiError as error:
                        raise deadline.exceeded() or error from error
            finally:
                responses.close()
            raise deadline.exceeded() or UpstreamStreamIncomplete()
        finally:
            if slot is not None:
                slot.release()


class _StreamEnd:
    """Whether a stream is over: each of its `n` choices has sent its finish_reason.

    With `n` > 1 each packet carries one choice. In the message format a choice names its `index`;
    the text format (`output.text`, `output.finish_reason`) has no place for one, so there a finished
    packet counts as one finished choice: the stream is over at the `n`-th (docs/models.md). A
    choice without an `index` in the message format is counted the same way.
    """

    def __init__(self, expected: int) -> None:
        self._expected = expected
        self._finished: set[Any] = set()

    def over(self, output: dict[str, Any]) -> bool:
        found = choices({"output": output})
        if not found and finish_reason(output) is not None:  # result_format "text"
            self._finished.add(("unindexed", len(self._finished)))
        for choice in found:
            if finish_reason(choice) is not None:
                index = choice.get("index")
                self._finished.add(index if isinstance(index, int) else ("unindexed", len(self._finished)))
        return len(self._finished) >= self._expected


def _endpoint_named(error: UpstreamError, call: GenerationCall) -> UpstreamError:
    """DashScope's "url error" (a model called on the endpoint that does not serve it: the rules in
    core/models.py guessed wrong for a new model) says which setting fixes it."""
    if error.status == 400 and error.message.startswith("url error"):
        setting = "TEXT_MODELS" if call.endpoint == "multimodal" else "MULTIMODAL_MODELS"
        error.message = (f"{error.message} (model {call.model!r} was sent to DashScope's {call.endpoint} endpoint by "
                         f"this function's model rules; if DashScope serves it on the other one, add it to {setting})")
        error.args = (error.message,)
    return error
