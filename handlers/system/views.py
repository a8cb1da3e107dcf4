"""The function's own door: health, and FC's instance lifecycle hooks.

FC marks its own hook calls with `x-fc-control-path: /initialize` or `/pre-stop` (and an HTTP
trigger refuses callers' headers that start with x-fc-, so a caller cannot forge it). A hook call
without that mark does nothing and says so: 200, so that FC would never fail an instance should it
ever call without the mark, and nothing an outside caller can make it do.
"""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from core.upstream.tokens import warm_tokenizer
from web.services import services
from web.tracking import flush_logs

bp = Blueprint("system", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/health")
def health() -> Response:
    """Liveness and configuration at a glance; never calls DashScope, never shows the key."""
    found = services()
    config = found.config
    body = {
        "status": "ok",
        "api_key_configured": config.api_key_configured,
        "upstream": "custom" if config.dashscope_base_url else "dashscope",
        "default_model": config.default_model,
        "invoke_mode": config.invoke_mode,
        "doors": doors(),
    }
    if found.callers is not None:
        # Still 200 when the store is down: the owner's token works; callers' calls get 503s.
        up = found.callers.healthy()
        body["caller_store"] = {"kind": found.callers.kind, "status": "up" if up else "down"}
        if not up:
            body["status"] = "degraded"
    return jsonify(body)


# Blueprint name -> the door's name in /health.
DOOR_NAMES = {"invoke": "invoke", "openai": "openai", "native": "dashscope-native"}


def doors() -> list[str]:
    """The doors this app serves (the try-it page only when TRY_PAGE is on)."""
    served = [name for blueprint, name in DOOR_NAMES.items() if blueprint in current_app.blueprints]
    return served + (["try-page"] if services().config.try_page else [])


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of every route."""
    return jsonify(openapi_description())


@cache
def openapi_description() -> dict:
    """Built on the first GET /openapi.json, not at start: its JSON schemas (pydantic's, of every
    parameter) are about 3% of a cold start, and no call needs them."""
    from handlers.system.openapi.document import openapi_document

    return openapi_document()


def _called_by_fc(hook_path: str) -> bool:
    return request.headers.get("x-fc-control-path") == hook_path


def _ignored(hook_path: str) -> Response:
    return jsonify(
        {"status": "ignored", "message": f"only FC's own call (x-fc-control-path: {hook_path}) runs this hook"}
    )


@bp.post("/initialize")
def initialize() -> Response:
    """FC's initializer hook: build the connection pool before the first call arrives."""
    if not _called_by_fc("/initialize"):
        return _ignored("/initialize")
    services().upstream.warm()
    if services().config.max_input_tokens:
        warm_tokenizer()
    return jsonify({"status": "initialized"})


@bp.get("/pre-stop")
def pre_stop() -> Response:
    """FC's pre-stop hook: the instance is about to go; make sure every log line is out."""
    if not _called_by_fc("/pre-stop"):
        return _ignored("/pre-stop")
    flush_logs()
    return jsonify({"status": "stopping"})
