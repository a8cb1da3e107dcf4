"""Wait until a URL answers 200, while a process is alive (scripts/run-local.sh: the function's /health).

    python3 scripts/wait_until_up.py URL PID [SECONDS]

Exit 0 once it answers; 1 when the process has exited or SECONDS (default 120) have passed. Standard
library only: it runs before anything is installed but the function's own packages.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_until_up(url: str, pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive(pid):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback URL we built
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or the worker still booting
        time.sleep(0.1)
    return False


if __name__ == "__main__":
    try:
        up = wait_until_up(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 120.0)
    except KeyboardInterrupt:  # Ctrl-C while the function starts: run-local.sh stops everything
        sys.exit(130)
    sys.exit(0 if up else 1)
