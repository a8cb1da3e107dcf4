"""The try-it page (/): views.py and try_page.html.
"""

from handlers.page.views import init_app

__all__ = ["init_app"]
