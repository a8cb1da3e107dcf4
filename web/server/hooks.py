"""gunicorn's server hooks (named in gunicorn.conf.py): how the app learns that its instance is stopping.

On SIGTERM (how FC stops an instance, after GET /pre-stop) gunicorn stops accepting calls and gives those
in flight `graceful_timeout` seconds, then kills the worker. These hooks tell the app when that kill will
come, STOP_MARGIN_S early: a stream still running then ends with an `InstanceStopping` error event, and
the log line of anything still unfinished is written. The app's own modules are imported inside the
hooks: the master, which reads this module with gunicorn.conf.py, never loads the app. Once the worker
has loaded the app, what exists is frozen out of the garbage collector's walks (gc.freeze).
"""

import gc
import os
import signal

# Streams still running this long before graceful_timeout runs out end with an error event, and
# every unfinished call's log line is written: time for them to go out before the kill.
STOP_MARGIN_S = 5.0


def _stop_margin_s(cfg) -> float:  # noqa: ANN001
    return min(STOP_MARGIN_S, cfg.graceful_timeout / 4)


def post_worker_init(worker) -> None:  # noqa: ANN001
    """Learn of SIGTERM in the app, and write unfinished calls' lines before gunicorn's kill."""
    from web.lifecycle import begin_stopping, watch_for_stop
    from web.tracking import write_unfinished_lines

    margin_s = _stop_margin_s(worker.cfg)
    grace_s = worker.cfg.graceful_timeout - margin_s
    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame) -> None:  # noqa: ANN001
        begin_stopping(grace_s)
        gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    # Half the margin after the streams' deadline: they have ended and written their own lines; what
    # is still unfinished then (a call the upstream keeps silent) gets its line before the kill.
    watch_for_stop(lambda: write_unfinished_lines("the instance stopped before the call ended"), margin_s / 2)
    # What the worker has built by now (the app, its modules, the settings) lives as long as the
    # worker: out of the collector's sight, a full collection walks only what calls made since.
    gc.freeze()


def worker_int(worker) -> None:  # noqa: ANN001
    """SIGINT / SIGQUIT: a quick stop. Write what is unfinished before the worker exits."""
    from web.tracking import write_unfinished_lines

    write_unfinished_lines("the instance was stopped at once (SIGINT/SIGQUIT)")


def worker_exit(server, worker) -> None:  # noqa: ANN001
    """The worker is exiting: every line, unfinished calls' included, goes out before it does."""
    if worker.pid != os.getpid():
        return  # the master, tidying up after a worker that is already gone
    from web.tracking import write_unfinished_lines

    write_unfinished_lines("the instance stopped before the call ended")
