"""The short-way session (core/upstream/session.py, DashScopeSession.request) against requests' own
Session.request, on the function's whole upstream call: QwenUpstream.complete through the real SDK to
the bundled emulator over loopback, in this process, interleaved. The CPU is this process's only
(the emulator runs apart), so it is the function's side of the call.

    python scripts/benchmark/ab_session.py            # about 20 seconds
    python scripts/benchmark/ab_session.py --quick    # seconds, figures meaningless
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import requests  # noqa: E402

from core.types import GenerationCall  # noqa: E402
from core.upstream.client import QwenUpstream  # noqa: E402
from scripts.benchmark.ab import interleaved, options, report  # noqa: E402
from scripts.benchmark.common import KEY  # noqa: E402
from scripts.benchmark.servers import emulator_process  # noqa: E402
from scripts.fc_process import free_port, stop  # noqa: E402

CALL = GenerationCall(model="qwen-plus", messages=[{"role": "user", "content": "hello there"}],
                      parameters={"result_format": "message"})


def upstream(base_url: str, short_way: bool) -> QwenUpstream:
    client = QwenUpstream(KEY, base_url, timeout_s=30)
    if not short_way:  # the same session, pool and settings; only its request() is requests' own
        client.session.request = types.MethodType(requests.Session.request, client.session)
    return client


def calls(client: QwenUpstream):  # noqa: ANN201
    def run(count: int) -> None:
        for _ in range(count):
            client.complete(CALL)
    return run


def main() -> None:
    args = options(__doc__.splitlines()[0], rounds=20, calls=50)
    port = free_port()
    emulator = emulator_process(port)
    try:
        base_url = f"http://127.0.0.1:{port}/api/v1"
        samples = interleaved({"short way (DashScopeSession)": calls(upstream(base_url, True)),
                               "requests' Session.request": calls(upstream(base_url, False))}, args.rounds, args.calls)
    finally:
        stop(emulator)
    report("short-way session", samples, args.rounds, args.calls)


if __name__ == "__main__":
    main()
