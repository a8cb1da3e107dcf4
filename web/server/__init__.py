"""The gunicorn-only code: the worker, what its event loop reads of a request head, its quick stop.
Nothing in the WSGI app imports it."""
