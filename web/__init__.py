"""The HTTP layer: request tracking and logs, access, bodies, errors as responses, streaming, and the
one request path every door goes through (serve.py)."""
