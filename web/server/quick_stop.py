"""gunicorn's quick stop (SIGINT, SIGQUIT) for the worker: once, and at once.

Ctrl-C in a terminal reaches the worker twice: SIGINT from the terminal (the whole process group
gets it) and SIGQUIT from the master. gthread's handler is not reentrant: the second signal,
arriving while the first handler was inside ThreadPoolExecutor.shutdown (which holds a plain Lock),
waited for that lock forever, until the master killed the worker after graceful_timeout, 30 s later
("Worker ... was sent SIGKILL! Perhaps out of memory?"). So a second quit signal does nothing.

A quick stop also does not wait for the pool's threads, as a normal exit does (it joins them): a
stream still running, or a slow client's body, would hold the exit for as long as it lasts. The
unfinished calls' log lines are written first (gunicorn.conf.py's worker_int). SIGTERM, how FC stops
an instance, stays graceful (gunicorn.conf.py).
"""

from __future__ import annotations

import os
from typing import Any


class QuickStop:
    """Mixed into a gunicorn worker class, before the worker it changes."""

    quitting = False

    def handle_quit(self, sig: int, frame: Any) -> None:
        if self.quitting:
            return
        self.quitting = True
        self.alive = False
        self.cfg.worker_int(self)  # every log line out, the unfinished calls' included
        os._exit(0)
