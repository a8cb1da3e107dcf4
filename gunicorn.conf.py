"""gunicorn settings for FC3's custom runtime (and for running locally the same way).

Worker model: one gthread worker with 256 threads. Every call spends seconds waiting on DashScope
(a stream holds its connection for the whole generation) and almost no CPU, so one process carries
them all: a thread per call in flight, while idle keep-alive connections wait in the worker's
poller without holding a thread. s.yaml lets FC send 128 calls at once to an instance
(instanceConcurrency); the other 128 threads are headroom, so /health and FC's hooks never wait.
The worker class is gthread's, extended in core/worker.py: its poller also reads each request's
head (and a body up to 64 KiB) before a thread takes it, so a slow or silent client holds no
thread (408 after REQUEST_READ_TIMEOUT_S, default 10 s), and gunicorn's own error responses
(400/414/431/...) are the function's JSON errors with a request id.
Measured against gevent (scripts/benchmark): the same added latency, concurrency as good as calling
the SDK directly (gevent: up to 1.2x slower for 128 streams), a faster cold start, less memory, and
no monkey-patching under the SDK's HTTPS client.

Environment: PORT (default 9000, FC's customRuntimeConfig.port), HOST (default 0.0.0.0),
WEB_CONCURRENCY (workers, default 1), THREADS (per worker, default 256), REQUEST_READ_TIMEOUT_S
(core/worker.py, default 10).
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '9000')}"
# gthread, whose event loop also reads each request before a thread serves it (see core/worker.py).
worker_class = "core.worker.RequestReadingWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("THREADS", "256"))
# Connections one worker holds open, busy or idle (keep-alive).
worker_connections = 1000

# The worker heartbeats from its main thread, so a long generation never trips this.
timeout = 30
# On SIGTERM (how FC stops an instance) in-flight calls get this long to finish.
graceful_timeout = 30
# FC's front end reuses connections to the instance; keep them, briefly.
keepalive = 5

# One JSON line per request comes from the app itself (core/observability.py); gunicorn's access
# log would be a second, unstructured line with the query string in it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "qwen-fc"
