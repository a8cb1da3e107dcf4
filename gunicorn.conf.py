"""gunicorn settings for FC3's custom runtime (and for running locally the same way).

Worker model: gthread workers with 256 threads each, one worker per whole CPU of the instance
(instance_workers below; one without REDIS_URL). Every call spends seconds waiting on DashScope
(a stream holds its connection for the whole generation) and little CPU, so one process carries
all a CPU can serve: a thread per call in flight, while idle keep-alive connections wait in the worker's
poller without holding a thread. s.yaml lets FC send 200 calls at once to an instance
(instanceConcurrency, FC's most; the benchmark's many-streams row holds 200 long streams on one
worker); the other 56 threads are headroom, so /health and FC's hooks never wait.
The worker class is gthread's, extended in web/server/worker.py: its poller also reads each request's
head (and a body up to 64 KiB) before a thread takes it, so a slow or silent client holds no
thread (408 after REQUEST_READ_TIMEOUT_S, default 10 s), and gunicorn's own error responses
(400/414/431/...) are the function's JSON errors with a request id.
Measured against gevent (scripts/benchmark): the same added latency, concurrency as good as calling
the SDK directly (gevent: up to 1.2x slower for 128 streams), a faster cold start, less memory, and
no monkey-patching under the SDK's HTTPS client.

Environment: PORT (default 9000, FC's customRuntimeConfig.port), HOST (default 0.0.0.0),
WEB_CONCURRENCY (workers; default: instance_workers() below), THREADS (per worker, default 256), REQUEST_READ_TIMEOUT_S
(web/server/worker.py, default 10), LOG_LEVEL: checked at start like every setting (one line, exit 2), except
a WEB_CONCURRENCY that is not a number, which gunicorn itself reads (and fails on) before this file.

Stopping (how FC ends an instance: GET /pre-stop, then SIGTERM): gunicorn stops accepting calls
and gives those in flight `graceful_timeout` seconds, then kills the worker. gunicorn's hooks tell
the app when that kill will come, STOP_MARGIN_S early (web/server/hooks.py): a stream still running
then ends with an `InstanceStopping` error event, and the log line of anything still unfinished is
written.
"""

import os
import sys

# The app's own modules, wherever gunicorn is started from.
# (gunicorn runs this file with __file__ set; a plain exec of it, as a test does, runs from here.)
sys.path.insert(0, os.path.dirname(os.path.abspath(globals().get("__file__", "gunicorn.conf.py"))))
from core.config import Config, ConfigError, server_number  # noqa: E402
# gunicorn's server hooks, read from this file by their names: the instance's stop (web/server/hooks.py).
from web.server.hooks import post_worker_init, worker_exit, worker_int  # noqa: E402,F401


def instance_cores() -> tuple[int, str]:
    """The whole CPUs this instance may use, and where that figure came from. FC3 documents no variable
    for an instance's vCPUs (its `cpu`, 0.05 to 16); what the kernel says is the truth: the CPUs this
    process may run on, capped by the cgroup's CPU quota (v2 cpu.max, v1 cfs_quota_us), rounded down,
    at least 1 (1.5 vCPUs is one worker: a second would be throttled in every quota period)."""
    cores = len(os.sched_getaffinity(0))
    source = f"{cores} CPU{'s' if cores > 1 else ''} visible"
    quota = None
    try:
        limit, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        quota = None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        try:
            limit = int(open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read())
            quota = None if limit <= 0 else limit / int(open("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read())
        except (OSError, ValueError):
            pass
    if quota is not None and quota < cores:
        cores, source = max(1, int(quota)), f"cgroup CPU quota {quota:g} of {cores} visible"
    return cores, source


def instance_workers(environ) -> tuple[int, str]:  # noqa: ANN001
    """Workers when WEB_CONCURRENCY is not set: one per whole CPU, but one in all without REDIS_URL.
    Without Redis the callers' store (CALLERS), the model limits (MODEL_LIMITS) and the Responses
    store live in the process: with two workers a caller's limits would count twice and a stored
    response would be found by one worker in two. MAX_IN_FLIGHT and CALLER_MAX_IN_FLIGHT are per
    worker (docs/deploy.md: how they fit cpu and instanceConcurrency)."""
    cores, source = instance_cores()
    if cores > 1 and not environ.get("REDIS_URL", "").strip():
        return 1, f"{source}; one worker without REDIS_URL (callers, model limits and stored responses are in-process)"
    return cores, source


# A bad setting is one clear line and a non-zero exit, here in the master before any worker
# boots, not a worker's traceback and gunicorn's "Worker failed to boot".
try:
    Config.from_env()
    port = server_number(os.environ, "PORT", 9000, 65535)
    if os.environ.get("WEB_CONCURRENCY", "").strip():
        workers, why = server_number(os.environ, "WEB_CONCURRENCY", 1, 64), "WEB_CONCURRENCY"
    else:
        workers, why = instance_workers(os.environ)
    threads = server_number(os.environ, "THREADS", 256, 10000)
except ConfigError as error:
    print(f"qwen-fc cannot start: {error}", file=sys.stderr)
    sys.exit(2)

# The worker count, and why, once at start (the master reads this file once).
print(f"qwen-fc: {workers} worker{'s' if workers > 1 else ''} x {threads} threads ({why})", file=sys.stderr, flush=True)

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{port}"
# gthread, whose event loop also reads each request before a thread serves it (see web/server/worker.py).
worker_class = "web.server.worker.RequestReadingWorker"
# Connections one worker holds open, busy or idle (keep-alive).
worker_connections = 1000

# The worker heartbeats from its main thread, so a long generation never trips this.
timeout = 30
# On SIGTERM (how FC stops an instance) in-flight calls get this long to finish (FC does not
# document how long it waits after SIGTERM; FC stops idle instances, so this is rarely needed).
graceful_timeout = 30
# FC's front end reuses connections to the instance; keep them, briefly.
keepalive = 5

# One JSON line per request comes from the app itself (web/tracking.py); gunicorn's access
# log would be a second, unstructured line with the query string in it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "qwen-fc"
# gunicorn's control socket ($HOME/.gunicorn/gunicorn.ctl, one path shared by every gunicorn the
# user runs: two local instances fight over it) serves nothing this function uses.
control_socket_disable = True
