"""The one request path every door goes through: parse → admit → call → shape → settle.

A door (handlers/invoke/views.py, handlers/openai/views.py) is a parser, a shaper and an error body; `serve`
does the rest, the same way for every door:

1. admit before reading: the caller's share of the instance and its own limits (checked, not
   counted), and a MAX_IN_FLIGHT slot (or an immediate 429), so a refused call costs nothing, not
   even reading its body;
2. parse: the door reads the body (within MAX_BODY_BYTES) into a call and the stream switch;
3. admit the call: the owner's rules (core/policy.py), then the caller's limits and MODEL_LIMITS
   (web/callers.py: the call is counted from here, and what it can spend reserved);
4. call DashScope (core/upstream), or stream from it;
5. shape: the door's answer body, or its stream events (web/sse.py);
6. settle: DashScope's request id, the usage and (LOG_CONTENT) the reply on the request's log
   line; for a stream, at its real end, disconnects included; and, once per admitted call, the
   caller's usage in the caller store (an upstream failure settles with no usage).
"""

from __future__ import annotations

from typing import Any, Generic, Iterator, Protocol, TypeVar

from flask import Response, jsonify

from core.config import Config
from core.errors import RequestTimeout
from core.parameters import check_model_name
from core.types import Call, Completion
from web.callers import Admission, current_caller
from web.request_body import read_body
from web.services import services
from web.sse import StreamFormat, stream_response
from web.tracking import note, note_content


class ParsedCall(Protocol):
    """What a door's parser makes of a request."""

    @property
    def call(self) -> Call: ...

    @property
    def stream(self) -> bool: ...

    def log_fields(self) -> dict[str, Any]:
        """What the request's log line should say about it (door, mode, model, ...)."""
        ...


P = TypeVar("P", bound=ParsedCall)


class Door(Protocol, Generic[P]):
    """A door: how it reads a request and how it writes answers (its error body is registered with
    web/errors.py's `use_error_body`)."""

    def parse(self, body: bytes, config: Config) -> P: ...

    def answer(self, completion: Completion, parsed: P) -> dict[str, Any]: ...

    def stream_format(self, parsed: P) -> StreamFormat: ...


def settle(usage: dict[str, Any], upstream_request_id: str | None = None, reply: str | None = None,
           admission: Admission | None = None) -> None:
    """A call has ended: what it cost goes on the request's log line (and to the caller's usage)."""
    if admission is not None:
        admission.settle(usage)
    if upstream_request_id:  # none for a call answered here (the tokenizer)
        note(upstream_request_id=upstream_request_id)
    note(usage=usage)
    if reply is not None:
        note_content(reply=reply)


def serve(door: Door[P]) -> Response:
    """Serve the current request through `door`."""
    found = services()
    config, upstream = found.config, found.upstream
    # Checked before the body is read, so a refused call costs no memory: the caller's share of this
    # instance (CALLER_MAX_IN_FLIGHT), its own limits (not counted yet) and a MAX_IN_FLIGHT slot.
    slot = found.take_slots(current_caller())
    admission: Admission | None = None
    try:
        try:
            body = read_body(config.max_body_bytes, config.request_read_timeout_s)
        except RequestTimeout:
            # A body that never came held a slot all that time: it counts against the caller's rpm,
            # so that a caller cannot hold its share of the instance again and again for free.
            found.count_unread_body(current_caller())
            raise
        parsed = door.parse(body, config)
        # Every door's model name, before it reaches the log line, a counter or a usage row.
        check_model_name(parsed.call.model)
        note(**parsed.log_fields())
        call, policy_notes = found.admit(parsed.call)
        # A tokenizer call is answered here and spends nothing, but counts against the caller's rpm.
        admission, call = found.admit_caller(current_caller(), call, policy_notes)
        # The call will be made: its log line counts retries from here (the client reports each one).
        note(**policy_notes, retries=0)
        note_content(request=call.content)
        if parsed.stream:
            # The stream releases the slot when it ends.
            chunks: Iterator[Completion] = upstream.stream(call, slot)
            # Each event carries the whole text so far unless incremental_output is on (DashScope's default:
            # off; the native door keeps its callers' choice, the other doors ask for incremental events).
            cumulative = call.parameters.get("incremental_output") is not True
            settle_stream = (lambda usage: settle(usage, admission=admission)) if admission else settle
            return stream_response(chunks, door.stream_format(parsed), settle_stream, cumulative=cumulative)
        completion = upstream.complete(call)
    except BaseException:
        slot.release()
        if admission is not None:
            admission.settle(None)  # counted, with no tokens: the call failed before any usage was known
        raise
    slot.release()
    settle(completion.usage, completion.request_id, completion.text, admission)
    return jsonify(door.answer(completion, parsed))
