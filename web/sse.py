"""Streaming responses: the mechanics every door shares, with the event format left to the door.

`stream_response` pulls the first chunk before answering, so a failure before anything was sent
(a 429, a bad key, an unreachable upstream) is a plain JSON error with its real status. Once the
stream has started, any failure ends it with the door's error event, never with silence. The
upstream stream is closed however the response ends, and `settle` runs once, at the stream's real
end, with the usage known by then.

The body is sent within the request's context (web/tracking.py), so it notes the log line's fields
as the chunks go by. A stream still running when the instance must stop (web/lifecycle.py) ends with
the door's `InstanceStopping` error event. A stream the client abandoned (the server closes the body
before its end) is logged with status 499 and `client_closed: true`; every stream's line says how
many events went out (`events_sent`) and carries the usage known so far.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Callable, Iterator, Protocol

from flask import Response

from core.errors import ApiError, InstanceStopping, InternalError
from core.types import Completion
from web.json_output import compact_json
from web.lifecycle import stop_deadline
from web.tracking import current_request_id, logging_content, note

log = logging.getLogger("qwenfc")
# nginx's status for a request the client closed before the answer was complete (log lines only).
CLIENT_CLOSED_STATUS = 499
# No cache or proxy buffering may hold an event back.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class StreamFormat(Protocol):
    """How a door writes one stream: its events, and the event that ends it with an error."""

    def events(self, chunks: Iterator[Completion]) -> Iterator[str]: ...

    def error_event(self, error: ApiError) -> str: ...


class DashScopeEvents:
    """One stream in DashScope's own SSE format: numbered `result` events, each `answer(chunk)`, and an
    `error` event (with its `:HTTP_STATUS` line) at a failure, `error_body(error, request_id)`."""

    def __init__(
        self,
        answer: Callable[[Completion], dict[str, Any]],
        error_body: Callable[[ApiError, str], dict[str, Any]],
    ) -> None:
        self._answer, self._error_body = answer, error_body
        self._ids = itertools.count(1)

    def events(self, chunks: Iterator[Completion]) -> Iterator[str]:
        for chunk in chunks:
            yield sse_event(next(self._ids), "result", self._answer(chunk))

    def error_event(self, error: ApiError) -> str:
        body = self._error_body(error, current_request_id())
        return sse_event(next(self._ids), "error", body, status=error.status)


def sse_event(event_id: int, event: str, data: dict[str, Any], status: int = 200) -> str:
    """One event in DashScope's own wire format (id / event / :HTTP_STATUS / data)."""
    return f"id:{event_id}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{compact_json(data)}\n\n"


def sse_data(data: dict[str, Any] | str) -> str:
    """One `data:` line event, the form OpenAI's streams use."""
    payload = data if isinstance(data, str) else compact_json(data)
    return f"data: {payload}\n\n"


def _noted(chunks: Iterator[Completion], last: list[Completion], keep_reply: bool, cumulative: bool) -> Iterator[Completion]:
    reply = ""
    for chunk in chunks:
        last[:] = [chunk]
        note(upstream_request_id=chunk.request_id, usage=chunk.usage, finish_reason=chunk.finish_reason)
        if keep_reply:
            reply = chunk.text if cumulative else reply + chunk.text
            note(reply=reply)
        yield chunk
        stop_by = stop_deadline()
        if stop_by is not None and chunk.finish_reason is None and time.perf_counter() >= stop_by:
            raise InstanceStopping()


def stream_response(
    chunks: Iterator[Completion],
    stream_format: StreamFormat,
    settle: Callable[[dict[str, Any]], None],
    cumulative: bool = False,
) -> Response:
    """Answer with the door's events for the upstream chunks; a failure once streaming becomes the
    door's error event; `settle(usage)` once, when the stream has really ended.

    `cumulative`: each chunk carries the whole text so far (incremental_output false), not the new part.
    """
    first = next(chunks, None)
    last: list[Completion] = []
    upstream = _noted(itertools.chain([first] if first is not None else [], chunks), last, logging_content(), cumulative)

    def body() -> Iterator[bytes]:
        sent = 0  # events the server has taken and written (it asks for the next one after)
        try:
            try:
                for event in stream_format.events(upstream):
                    yield event.encode()
                    sent += 1
            except Exception as exc:  # noqa: BLE001 - a stream that has started ends with an error event
                if not isinstance(exc, ApiError):
                    log.exception("stream failed")
                error = exc if isinstance(exc, ApiError) else InternalError()
                note(error_code=error.code)
                yield stream_format.error_event(error).encode()
                sent += 1
        except GeneratorExit:
            # Closed before its end: the client went away (the server could not write to it).
            note(status=CLIENT_CLOSED_STATUS, client_closed=True)
            raise
        finally:
            note(events_sent=sent)
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            settle(last[0].usage if last else {})

    response = Response(body(), content_type="text/event-stream", headers=STREAM_HEADERS)
    # The body is bytes already: the server iterates it as is, without Werkzeug's two wrapping
    # layers per event (encoding and close-forwarding; the server closes it, which runs `finally`).
    response.direct_passthrough = True
    return response
