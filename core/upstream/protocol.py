"""The seam between the request path and DashScope: what `serve()` (web/serve.py) and the doors need of
an upstream. `QwenUpstream` (client.py) is the real one, through the SDK; tests of the request path and
the doors use an in-process fake (tests/fake_upstream.py), as the app and server tests use the emulator."""

from __future__ import annotations

from typing import Iterator, Protocol

from core.types import Call, Completion, GenerationCall
from core.upstream.resilience import CallSlot


class Upstream(Protocol):
    def admit(self) -> CallSlot:
        """A MAX_IN_FLIGHT slot for one call, taken before its body is read (raises `Overloaded`, 429)."""
        ...

    def complete(self, call: Call) -> Completion:
        """One answer: a generation (assembled from a stream when the call must stream), an embedding or
        a tokenizer count. Raises `UpstreamError` and its kind for DashScope's failures."""
        ...

    def stream(self, call: GenerationCall, slot: CallSlot | None = None) -> Iterator[Completion]:
        """The call's chunks, incremental or not as the call asks; `slot` is released when it ends."""
        ...

    def warm(self) -> None:
        """Get ready for the first call (FC's /initialize hook): nothing a call then waits for."""
        ...
