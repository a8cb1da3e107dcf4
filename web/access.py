"""Who may call the function: inbound bearer tokens, browser origins, and how much they may send.

With INVOKE_TOKEN set, every route but OPEN_PATHS (/health, FC's lifecycle hooks, /openapi.json and
the try-it page) needs ``Authorization: Bearer <token>`` (the OpenAI door's api_key is exactly that) or
``x-api-key: <token>`` (the Anthropic SDK's api_key), on every path. Tokens are compared
in constant time, and every configured token is compared, so timing tells nothing about which
token came close.

Callers (web/callers.py): with a caller store, a caller key (`qfc_...`) in the same header identifies
a caller, and with CALLER_NAME_HEADER so does the name FC's JWT trigger passes on; an unknown or revoked
key is a 401 like a wrong token, an unreachable store a 503 (fail closed). INVOKE_TOKEN stays the
switch for who may call at all: without it the function is open as before, and a call with no
caller credentials is the owner's (unlimited); a caller key given is still checked and limited.
"""

from __future__ import annotations

import hmac
import logging

from flask import Flask, request
from flask_cors import CORS

from core.callers import OWNER, CallerStore, looks_like_key
from core.config import Config
from core.errors import Unauthorized
from web.callers import set_caller
from web.request_body import DrainUnreadBody
from web.services import EXTENSION_KEY

log = logging.getLogger("qwenfc")

# Reachable without a token: liveness, the hooks FC itself calls (it sends no token), and what
# describes the function (the OpenAPI document, the try-it page, which asks for a token itself).
OPEN_PATHS = frozenset({"/health", "/initialize", "/pre-stop", "/openapi.json", "/"})


def _bearer_token() -> str | None:
    """The token a request carries: `Authorization: Bearer <token>`, else `x-api-key: <token>` (what
    Anthropic's clients send; read on every path, so one token works whichever door a client knows)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip() or None


def token_is_valid(given: str, tokens: tuple[str, ...]) -> bool:
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given.encode(), token.encode())
    return matched


def init_app(app: Flask, config: Config) -> None:
    # The doors read bodies with web.request_body.read_body, which enforces MAX_BODY_BYTES however
    # the body is framed; Flask's own limit guards anything else that would parse a body.
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    # Refused before its body was read (401, 429, 413): the client still gets to read the answer.
    app.wsgi_app = DrainUnreadBody(app.wsgi_app)  # type: ignore[method-assign]
    if config.cors_origins:
        CORS(
            app,
            origins=list(config.cors_origins),
            allow_headers=["Authorization", "Content-Type", "Accept", "X-DashScope-SSE", "x-api-key", "anthropic-version",
                           "anthropic-beta"],
            expose_headers=["X-Request-Id", "Retry-After"],
            methods=["GET", "POST", "OPTIONS"],
        )
    store: CallerStore | None = app.extensions[EXTENSION_KEY].callers
    if not config.invoke_tokens and store is None:
        if config.loopback_only:
            log.info("INVOKE_TOKEN is not set: open, to this machine only (HOST is loopback)")
        else:
            log.warning(
                "INVOKE_TOKEN is not set: anyone who can reach this function can spend its DashScope quota "
                "(set INVOKE_TOKEN, or FC's trigger authentication)"
            )
        return
    tokens = config.invoke_tokens
    name_header = config.caller_name_header

    @app.before_request
    def _require_token() -> None:
        # A browser's CORS preflight carries no credentials by design.
        if request.method == "OPTIONS" or request.path in OPEN_PATHS:
            return
        given = _bearer_token()
        if given is not None and tokens and token_is_valid(given, tokens):
            set_caller(OWNER if store is not None else None)
            return
        if store is not None:
            if given is not None and looks_like_key(given):
                caller = store.find(given)  # CallerStoreUnavailable (503) when the store cannot be asked
                if caller is None:
                    raise Unauthorized("this caller key is not known or has been revoked")
                set_caller(caller)
                return
            named = request.headers.get(name_header, "").strip() if name_header else ""
            if named:
                caller = store.find_by_name(named)
                if caller is None:
                    raise Unauthorized(f"the caller named in {name_header} is not known or has been revoked")
                set_caller(caller)
                return
        if not tokens:  # an open function (no INVOKE_TOKEN): what is not a caller is the owner
            set_caller(OWNER if store is not None else None)
            return
        if given is None:
            raise Unauthorized()
        raise Unauthorized("the bearer token is not one of this function's INVOKE_TOKEN values"
                           + (" nor a caller key" if store is not None else ""))
