"""The retry fast path (the first attempt run bare, tenacity only after a retryable failure, as
core/upstream/resilience.py's Retries did until this script found its gain within the noise of a
call; kept here as FastPath) against always going through tenacity (Retries today), interleaved, twice: around an
operation that does nothing (the trick's own cost) and on the function's whole upstream call
(QwenUpstream.complete through the real SDK to the bundled emulator over loopback, RETRIES=2), which
is what a call pays. The CPU is this process's only (the emulator runs apart).

    python scripts/benchmark/ab_retry.py            # about 20 seconds
    python scripts/benchmark/ab_retry.py --quick    # seconds, figures meaningless
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.errors import ApiError  # noqa: E402
from core.upstream.client import QwenUpstream  # noqa: E402
from core.upstream.resilience import Retries, is_retryable  # noqa: E402
from scripts.benchmark.ab import completing, interleaved, options, report  # noqa: E402
from scripts.benchmark.common import KEY  # noqa: E402
from scripts.benchmark.servers import running_emulator  # noqa: E402

T = TypeVar("T")


class FastPath(Retries):
    """The same policy; the first attempt bare, and its retryable failure handed to tenacity as its
    attempt 1, so it counts, waits and reports as if it had made it."""

    def __call__(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except ApiError as error:
            if not is_retryable(error):
                raise
            failures: list[ApiError] = [error]

        def first_failure_then_operation() -> T:
            if failures:
                raise failures.pop()
            return operation()

        return self._retrying(first_failure_then_operation)


def bare(retries: Retries):  # noqa: ANN201
    def run(count: int) -> None:
        for _ in range(count):
            retries(int)
    return run


def upstream(base_url: str, fast_path: bool) -> QwenUpstream:
    client = QwenUpstream(KEY, base_url, timeout_s=30, retries=2)
    if fast_path:
        client._retries = FastPath(2, 0.5)  # noqa: SLF001 - the one thing this variant changes
    return client


def main() -> None:
    args = options(__doc__.splitlines()[0], rounds=20, calls=50)
    own = interleaved({"fast path": bare(FastPath(2, 0.5)), "always tenacity": bare(Retries(2, 0.5))},
                      args.rounds, args.calls * 100)
    report("retry fast path, around an operation that does nothing", own, args.rounds, args.calls * 100)
    with running_emulator() as base_url:
        whole = interleaved({"fast path": completing(upstream(base_url, True)),
                             "always tenacity": completing(upstream(base_url, False))}, args.rounds, args.calls)
    report("retry fast path, on a whole upstream call", whole, args.rounds, args.calls)


if __name__ == "__main__":
    main()
