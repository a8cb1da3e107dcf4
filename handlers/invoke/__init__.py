"""The /invoke door (messages and prompt modes): views.py (the routes, the answer and its stream),
body.py (what a body means).
"""

from handlers.invoke.views import init_app

__all__ = ["init_app"]
