"""The function's own door: health, and FC's instance lifecycle hooks."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from core.observability import flush_logs
from core.openapi import openapi_document
from core.services import services

bp = Blueprint("system", __name__)
OPENAPI = openapi_document()


@bp.get("/health")
def health() -> Response:
    """Liveness and configuration at a glance; never calls DashScope, never shows the key."""
    config = services().config
    return jsonify(
        {
            "status": "ok",
            "api_key_configured": config.api_key_configured,
            "upstream": "custom" if config.dashscope_base_url else "dashscope",
            "default_model": config.default_model,
            "invoke_mode": config.invoke_mode,
        }
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of every route."""
    return jsonify(OPENAPI)


@bp.post("/initialize")
def initialize() -> Response:
    """FC's initializer hook: build the connection pool before the first call arrives."""
    services().upstream.warm()
    return jsonify({"status": "initialized"})


@bp.get("/pre-stop")
def pre_stop() -> Response:
    """FC's pre-stop hook: the instance is about to go; make sure every log line is out."""
    flush_logs()
    return jsonify({"status": "stopping"})
