"""The function's own door: /health, /openapi.json (openapi/: the document of every door), FC's hooks.
"""

from handlers.system.views import init_app

__all__ = ["init_app"]
