"""gunicorn settings for FC3's custom runtime (and for running locally the same way).

Worker model: one gevent worker. Every call spends seconds waiting on DashScope (a stream holds its
connection for the whole generation) and almost no CPU, so a greenlet per call carries hundreds of
calls in one process, where a thread per call would need a thread pool sized for the worst burst.
The worker's connection ceiling is twice s.yaml's instanceConcurrency (128 calls per instance):
FC never sends more than 128 calls at once, and the headroom keeps idle keep-alive connections and
/health probes from ever making a call wait for a slot.

Environment: PORT (default 9000, FC's customRuntimeConfig.port), HOST (default 0.0.0.0),
WEB_CONCURRENCY (workers, default 1), WORKER_CONNECTIONS (default 256).
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '9000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "256"))

# gevent workers heartbeat from their own greenlet, so a long generation never trips this.
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
