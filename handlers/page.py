"""The try-it page: one small self-contained page (GET /) for asking the function from a browser.

On when TRY_PAGE is set (scripts/run-local.sh sets it). The page calls /invoke like any other
caller, so it needs the invoke token when the function has one.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

from core.errors import RouteNotFound
from web.services import services

bp = Blueprint("page", __name__)
PAGE = (Path(__file__).parent / "try_page.html").read_bytes()


@bp.get("/")
def try_page() -> Response:
    if not services().config.try_page:
        raise RouteNotFound("the try-it page is off: set TRY_PAGE=1 to serve it")
    return Response(PAGE, mimetype="text/html", headers={"Cache-Control": "no-cache"})
