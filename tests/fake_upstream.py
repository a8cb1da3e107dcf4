"""An in-process upstream (core/upstream/protocol.py's `Upstream`) for tests of the request path
(web/serve.py) and the doors: no SDK, no socket, no emulator. It answers every generation call with
`reply` in DashScope's shapes (whole, or as incremental chunks of one word each), embeds texts as short
vectors, or raises the `error` it was given; it keeps every call it got, as DashScope would have
received it. The app and server tiers keep the real SDK against the emulator (tests/conftest.py)."""

from __future__ import annotations

from typing import Any, Iterator

from core.errors import ApiError
from core.types import Call, Completion, EmbeddingCall, GenerationCall
from core.upstream.resilience import CallSlot, InFlightLimit

REQUEST_ID = "fake-upstream-request-1"


class FakeUpstream:
    def __init__(self, reply: str = "Hello from the fake upstream.", *, error: ApiError | None = None,
                 max_in_flight: int | None = None) -> None:
        self.reply = reply
        self.error = error
        self.calls: list[Call] = []
        self.warmed = False
        self._in_flight = InFlightLimit(max_in_flight)

    def admit(self) -> CallSlot:
        return self._in_flight.take()

    def warm(self) -> None:
        self.warmed = True

    def complete(self, call: Call) -> Completion:
        self.calls.append(call)
        if self.error is not None:
            raise self.error
        if isinstance(call, EmbeddingCall):
            vectors = [{"text_index": index, "embedding": [0.5, -0.25, float(len(text))]}
                       for index, text in enumerate(call.texts)]
            return Completion(REQUEST_ID, {"embeddings": vectors}, {"total_tokens": len(call.texts)})
        assert isinstance(call, GenerationCall), f"the fake answers generations and embeddings, not {call!r}"
        return Completion(REQUEST_ID, _output(call, self.reply, "stop"), self._usage(len(self.reply.split())))

    def stream(self, call: GenerationCall, slot: CallSlot | None = None) -> Iterator[Completion]:
        self.calls.append(call)
        try:
            if self.error is not None:
                raise self.error
            words = self.reply.split(" ")
            for position, word in enumerate(words):
                last = position == len(words) - 1
                piece = word if position == 0 else f" {word}"
                yield Completion(REQUEST_ID, _output(call, piece, "stop" if last else "null"), self._usage(position + 1))
        finally:
            if slot is not None:
                slot.release()

    @staticmethod
    def _usage(output_tokens: int) -> dict[str, Any]:
        return {"input_tokens": 3, "output_tokens": output_tokens, "total_tokens": 3 + output_tokens}


def _output(call: GenerationCall, text: str, finish_reason: str) -> dict[str, Any]:
    """DashScope's output for the result format the call asks for."""
    if call.parameters.get("result_format") == "message":
        message = {"role": "assistant", "content": text}
        return {"choices": [{"finish_reason": finish_reason, "message": message}]}
    return {"text": text, "finish_reason": finish_reason}
