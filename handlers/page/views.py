"""The try-it page: one small self-contained page (GET /) for asking the function from a browser.

On when TRY_PAGE is set (scripts/run-local.sh sets it). The page calls /invoke like any other
caller, so it needs the invoke token when the function has one.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response

from core.errors import RouteNotFound
from web.services import services

bp = Blueprint("page", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
PAGE = (Path(__file__).parent / "try_page.html").read_bytes()
# The page's script and style are inline; it talks only to this function; image previews may show an
# https: URL or a data: URL (a local file). No other page may frame it, and nothing is sniffed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        "img-src 'self' data: https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


@bp.get("/")
def try_page() -> Response:
    if not services().config.try_page:
        raise RouteNotFound("the try-it page is off: set TRY_PAGE=1 to serve it")
    return Response(PAGE, mimetype="text/html", headers={"Cache-Control": "no-cache", **SECURITY_HEADERS})
