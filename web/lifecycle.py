"""The instance being stopped: how long calls in flight still have once FC has asked it to go.

FC stops an instance by calling its PreStop hook (GET /pre-stop, bounded by s.yaml's preStop timeout)
and then sending SIGTERM. gunicorn then stops accepting calls, waits up to `graceful_timeout` for
those in flight, and kills what is left. `begin_stopping` (run from the worker's SIGTERM handler,
see gunicorn.conf.py) sets a stop deadline some seconds before that kill: a stream still running at
the deadline ends with an `InstanceStopping` error event, and a call still waiting on DashScope
(however silent it is: core/upstream/read_deadline.py) ends then with an InstanceStopping event, or
a 503 JSON answer if it had not started answering. `watch_for_stop` writes the log line of every
call that is still unfinished after that, so nothing ends in silence or without its line. New
requests get a 503 InstanceStopping (web/server/worker.py), or are refused at the socket.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from core.upstream.resilience import stop_calls_at

_stop_deadline: float | None = None  # time.perf_counter() seconds
_stopping = threading.Event()


def stop_deadline() -> float | None:
    """When calls in flight must have ended (perf_counter seconds), or None while not stopping."""
    return _stop_deadline


def begin_stopping(grace_s: float) -> None:
    """The instance is stopping: calls in flight have `grace_s` seconds left. Safe in a signal
    handler (an assignment and an Event.set); only the first call counts."""
    global _stop_deadline
    if _stop_deadline is None:
        _stop_deadline = time.perf_counter() + max(grace_s, 0.0)
        # Calls waiting on DashScope end then too, with InstanceStopping, however silent it is.
        stop_calls_at(_stop_deadline)
        _stopping.set()


def watch_for_stop(after_deadline: Callable[[], None], delay_s: float = 0.0) -> threading.Thread:
    """Run `after_deadline` once, on a background thread, `delay_s` after the stop deadline (time
    for the streams ended at the deadline to write their own lines first)."""

    def watch() -> None:
        _stopping.wait()
        deadline = (_stop_deadline or time.perf_counter()) + delay_s
        time.sleep(max(deadline - time.perf_counter(), 0.0))
        after_deadline()

    watcher = threading.Thread(target=watch, name="qwenfc-stop-watch", daemon=True)
    watcher.start()
    return watcher
