"""Streaming responses: the mechanics every door shares, with the event format left to the door.

`stream_response` pulls the first chunk before answering, so a failure before anything was sent
(a 429, a bad key, an unreachable upstream) is a plain JSON error with its real status. Once the
stream has started, any failure ends it with the door's error event, never with silence. The
upstream stream is closed however the response ends.

A stream still running when the instance must stop (core/lifecycle.py) ends with the door's
`InstanceStopping` error event. A stream the client abandoned (the server closes the body before
its end) is logged with status 499 and `client_closed: true`; every stream's line says how many
events went out (`events_sent`) and carries the usage known so far.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Callable, Iterator

from flask import Response

from core.errors import ApiError, InstanceStopping, InternalError
from core.lifecycle import stop_deadline
from core.json_output import compact_json
from core.observability import current_request_id, log_fields, logging_content
from core.upstream import Completion

log = logging.getLogger("qwenfc")
# nginx's status for a request the client closed before the answer was complete (log lines only).
CLIENT_CLOSED_STATUS = 499
# No cache or proxy buffering may hold an event back.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(event_id: int, event: str, data: dict[str, Any], status: int = 200) -> str:
    """One event in DashScope's own wire format (id / event / :HTTP_STATUS / data)."""
    return f"id:{event_id}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{compact_json(data)}\n\n"


def sse_data(data: dict[str, Any] | str) -> str:
    """One `data:` line event, the form OpenAI's streams use."""
    payload = data if isinstance(data, str) else compact_json(data)
    return f"data: {payload}\n\n"


def _noted(chunks: Iterator[Completion], fields: dict[str, Any], keep_reply: bool, cumulative: bool) -> Iterator[Completion]:
    reply = ""
    for chunk in chunks:
        fields.update(upstream_request_id=chunk.request_id, usage=chunk.usage, finish_reason=chunk.finish_reason)
        if keep_reply:
            reply = chunk.text if cumulative else reply + chunk.text
            fields["reply"] = reply
        yield chunk
        stop_by = stop_deadline()
        if stop_by is not None and chunk.finish_reason is None and time.perf_counter() >= stop_by:
            raise InstanceStopping()


def stream_response(
    chunks: Iterator[Completion],
    events: Callable[[Iterator[Completion]], Iterator[str]],
    error_event: Callable[[ApiError], str],
    cumulative: bool = False,
) -> Response:
    """Answer with `events(upstream chunks)`; a failure once streaming becomes `error_event(error)`.

    `cumulative`: each chunk carries the whole text so far (incremental_output false), not the new part.
    The body runs after the view has returned, outside the request context: whatever it needs
    from the request (the log line's fields, the request id) is taken now.
    """
    first = next(chunks, None)
    fields, request_id = log_fields(), current_request_id()
    upstream = _noted(itertools.chain([first] if first is not None else [], chunks), fields, logging_content(), cumulative)

    def body() -> Iterator[bytes]:
        sent = 0  # events the server has taken and written (it asks for the next one after)
        try:
            try:
                for event in events(upstream):
                    yield event.encode()
                    sent += 1
            except Exception as exc:  # noqa: BLE001 - a stream that has started ends with an error event
                if not isinstance(exc, ApiError):
                    log.exception("stream failed", extra={"request_id": request_id})
                error = exc if isinstance(exc, ApiError) else InternalError()
                fields["error_code"] = error.code
                yield error_event(error).encode()
                sent += 1
        except GeneratorExit:
            # Closed before its end: the client went away (the server could not write to it).
            fields.update(status=CLIENT_CLOSED_STATUS, client_closed=True)
            raise
        finally:
            fields["events_sent"] = sent
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    response = Response(body(), content_type="text/event-stream", headers=STREAM_HEADERS)
    # The body is bytes already: the server iterates it as is, without Werkzeug's two wrapping
    # layers per event (encoding and close-forwarding; the server closes it, which runs `finally`).
    response.direct_passthrough = True
    return response
