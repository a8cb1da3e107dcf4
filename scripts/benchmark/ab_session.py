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

from core.upstream.client import QwenUpstream  # noqa: E402
from scripts.benchmark.ab import completing, interleaved, options, report  # noqa: E402
from scripts.benchmark.common import KEY  # noqa: E402
from scripts.benchmark.servers import running_emulator  # noqa: E402



def upstream(base_url: str, short_way: bool) -> QwenUpstream:
    client = QwenUpstream(KEY, base_url, timeout_s=30)
    if not short_way:  # the same session, pool and settings; only its request() is requests' own
        client.session.request = types.MethodType(requests.Session.request, client.session)
    return client


def main() -> None:
    args = options(__doc__.splitlines()[0], rounds=20, calls=50)
    with running_emulator() as base_url:
        samples = interleaved({"short way (DashScopeSession)": completing(upstream(base_url, True)),
                               "requests' Session.request": completing(upstream(base_url, False))},
                              args.rounds, args.calls)
    report("short-way session", samples, args.rounds, args.calls)


if __name__ == "__main__":
    main()
