"""The DashScope-native door under /api/v1/: views.py (the routes, answers, error body), body.py (what
its bodies ask for).
"""

from handlers.native.views import init_app

__all__ = ["init_app"]
