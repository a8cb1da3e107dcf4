"""DashScope's native answer shapes, for the text-generation and multimodal-generation endpoints:
one JSON body, or the SSE stream of them (incremental or cumulative)."""

from __future__ import annotations

import socket
import time
from typing import Any, Iterator

from .answers import Answer, Step
from .directives import StreamFaults, count_tokens, error_message, pieces
from .search import Search, usage_plugins
from .sse import dashscope_event


class NativeShape:
    """How one request's answer is written: text or message format, text or multimodal endpoint."""

    def __init__(
        self,
        answer: Answer,
        result_format: str,
        multimodal: bool,
        request_id: str,
        parameters: dict[str, Any] | None = None,
        search: Search | None = None,
    ) -> None:
        self.answer = answer
        self.search = search  # the call's web search (search.py), None when it did not search
        parameters = parameters or {}
        # `n` choices (DashScope: 1-4; each streamed packet carries one), and `logprobs` per token.
        # DashScope documents `n`'s answer only as `output.choices[i]` with an `index` (message format);
        # the text format (`output.text`) has no place for an index. Assumed here, as the function's
        # stream-end check is (docs/models.md): one packet per choice as in the message format, with
        # no index, each choice's last carrying its finish_reason; unstreamed, one `output.text`.
        n = parameters.get("n")
        self.choices = n if isinstance(n, int) and not isinstance(n, bool) and 1 < n <= 4 else 1
        self.logprobs = parameters.get("logprobs") is True
        top = parameters.get("top_logprobs")
        self.top_logprobs = top if isinstance(top, int) and not isinstance(top, bool) else 0
        # The multimodal endpoint always answers in the message format, its content a list of parts.
        self.result_format = "message" if multimodal else result_format
        self.multimodal = multimodal
        self.request_id = request_id

    def body(
        self,
        text: str,
        reasoning: str | None,
        finish_reason: str,
        output_tokens: int,
        reasoning_tokens: int,
        tool_calls: list[dict[str, Any]] | None,
        index: int | None = None,
        first: bool = True,
    ) -> dict[str, Any]:
        """One body; `index` None: every choice (a whole answer), else that choice alone (a packet).
        `first`: the answer or a stream's first event (the one that carries the search's sources)."""
        answer = self.answer
        usage: dict[str, Any] = {
            "input_tokens": answer.input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": answer.input_tokens + output_tokens,
        }
        if answer.reasoning is not None:
            usage["output_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
        if self.multimodal and answer.media_tokens():
            usage.update(answer.media_tokens())
        if answer.cache is not None:
            usage["prompt_tokens_details"] = dict(answer.cache)
        search_info = self.search.info(first) if self.search is not None else None
        if self.search is not None:
            usage.update(usage_plugins())
        if self.result_format != "message":
            output: dict[str, Any] = {"text": text, "finish_reason": finish_reason}
            if search_info is not None:
                output["search_info"] = search_info
            return {"output": output, "usage": usage, "request_id": self.request_id}
        content: Any = ([{"text": text}] if text or not reasoning else []) if self.multimodal else text
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if answer.reasoning is not None:
            message["reasoning_content"] = reasoning or ""
        if tool_calls:
            message["tool_calls"] = tool_calls
        indices = [index] if index is not None else list(range(self.choices))
        choices = []
        for number in indices:
            choice: dict[str, Any] = {"finish_reason": finish_reason, "message": message}
            if self.choices > 1:
                choice["index"] = number
            if self.logprobs:
                choice["logprobs"] = {"content": self._logprobs(text)}
            choices.append(choice)
        output = {"choices": choices}
        if search_info is not None:
            output["search_info"] = search_info
        return {"output": output, "usage": usage, "request_id": self.request_id}

    def sources_first(self) -> dict[str, Any] | None:
        """`prepend_search_result`: the event that carries the sources alone, ahead of the reply."""
        if self.search is None or not self.search.prepend or self.search.sources is None:
            return None
        body = self.body("", "" if self.answer.reasoning is not None else None, "null", 0, 0, None)
        body["usage"] = {}
        return body

    def _logprobs(self, text: str) -> list[dict[str, Any]]:
        entries = []
        for piece in pieces(text):
            entry: dict[str, Any] = {"token": piece, "bytes": list(piece.encode()), "logprob": -0.25}
            entry["top_logprobs"] = [
                {"token": piece, "bytes": list(piece.encode()), "logprob": -0.25 * (rank + 1)} for rank in range(self.top_logprobs)
            ]
            entries.append(entry)
        return entries

    def whole(self) -> dict[str, Any]:
        answer = self.answer
        return self.body(
            answer.text, answer.reasoning, answer.finish_reason, answer.output_tokens,
            answer.reasoning_tokens, answer.tool_calls,
        )


def events(
    shape: NativeShape,
    parameters: dict[str, Any],
    directives: dict[str, str],
    chunk_delay: float,
    connection: socket.socket | None,
    record: dict[str, Any],
) -> Iterator[bytes]:
    """The stream's events. `record` (its history entry) tracks how far it got: a stream whose
    reader went away stops at its next event, with `completed` still False."""
    answer = shape.answer
    incremental = bool(parameters.get("incremental_output"))
    steps = answer.steps(fragments=incremental and "tool_fragments" in directives)
    record.update(events_sent=0, events_planned=len(steps), completed=False)
    faults = StreamFaults(directives)
    sent_text = sent_reasoning = ""
    # Tokens so far, counted a step at a time: steps are whole pieces, so the sum is what counting the
    # text so far would give, without re-reading it at every event (quadratic in a long stream: 200
    # streams at once spent most of the emulator's CPU there).
    text_tokens = reasoning_tokens = 0
    ahead = shape.sources_first()
    if ahead is not None:
        yield dashscope_event(1, "result", 200, ahead)
    offset = 1 if ahead is not None else 0  # the event ids after it
    for index, step in enumerate(steps, start=1):
        if index > 1 and chunk_delay:
            time.sleep(chunk_delay)
        sent_text += step.text
        sent_reasoning += step.reasoning
        text_tokens += count_tokens(step.text) if step.text else 0
        reasoning_tokens += count_tokens(step.reasoning) if step.reasoning else 0
        last = index == len(steps)
        text, reasoning = (step.text, step.reasoning) if incremental else (sent_text, sent_reasoning)
        if last:
            output_tokens, shown_reasoning_tokens = answer.output_tokens, answer.reasoning_tokens
        else:
            output_tokens, shown_reasoning_tokens = text_tokens + reasoning_tokens, reasoning_tokens
        for choice in range(shape.choices):  # with `n` > 1, one packet per choice
            body = shape.body(
                text, reasoning, answer.finish_reason if last else "null", output_tokens, shown_reasoning_tokens,
                _tool_calls_in(step, answer, last, incremental), choice if shape.choices > 1 else None,
                first=index == 1 and ahead is None,
            )
            event = dashscope_event(index + offset, "result", 200, body)
            if faults.tears(index):
                yield event[: len(event) // 2]
                faults.end_torn(index, connection)
                return
            yield event
        record["events_sent"] = index
        if last:
            record["completed"] = True
            return
        fault = faults.after(index, connection)
        if fault == "fail":
            status = int(directives.get("status", 500))
            error = {
                "code": directives.get("code", "InternalError"),
                "message": error_message(status, directives),
                "request_id": shape.request_id,
            }
            yield dashscope_event(index + offset + 1, "error", status, error)
        if fault is not None:
            return


def _tool_calls_in(step: Step, answer: Answer, last: bool, incremental: bool) -> list[dict[str, Any]] | None:
    if step.tool_calls and (incremental or last):
        return step.tool_calls
    # Cumulative: the whole call, once it is whole (in the last event).
    return answer.tool_calls if last and not incremental else None
