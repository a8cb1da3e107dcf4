"""Builds the Flask app from a config object read once from the environment.

gunicorn serves ``app:create_app()`` (see gunicorn.conf.py and s.yaml); tests call
``create_app(Config(...))`` directly (and, for the request path alone, with an in-process upstream:
``create_app(config, upstream=FakeUpstream())``). Every concern is wired the same way, Flask's
``init_app(app)``: the services, errors, request tracking, access, then each door in DOORS.
"""

from __future__ import annotations

import logging
from importlib import import_module
from urllib.parse import urlsplit

from flask import Flask

from core.callers import build_store
from core.config import Config
from core.retired_models import retired_model_warnings
from core.upstream import QwenUpstream, Upstream
from web import access, errors, tracking
from web.json_output import CompactJsonProvider
from web.services import Services
from web.tracking import configure_logging, note

log = logging.getLogger("qwenfc")
# The doors, in the order their routes are registered: each a package under handlers/ with init_app(app).
# A new door is its folder and its name here.
DOORS = ("invoke", "system", "page", "openai", "native", "responses", "anthropic")


def create_app(config: Config | None = None, upstream: Upstream | None = None) -> Flask:
    config = config or Config.from_env()
    configure_logging(config.log_level)

    app = Flask(__name__)
    app.json = CompactJsonProvider(app)
    upstream = upstream if upstream is not None else QwenUpstream(
        config.dashscope_api_key,
        config.dashscope_base_url,
        config.upstream_timeout_s,
        retries=config.upstream_retries,
        first_backoff_s=config.upstream_retry_backoff_s,
        max_in_flight=config.max_in_flight,
        on_retry=lambda attempt, error: note(retries=attempt, retried_for=error.code),
        call_deadline_s=config.call_deadline_s,
        workspace_id=config.dashscope_workspace_id,
    )
    # A reservation outlives any call (CALL_DEADLINE_S), and lapses if its instance dies mid-call.
    callers = build_store(redis_url=config.redis_url, callers=config.callers, model_limits=config.model_limits,
                          model_prices=config.model_prices, fail_open=config.callers_fail_open,
                          reservation_ttl_s=config.call_deadline_s + 60)
    Services.build(config, upstream, callers).init_app(app)
    errors.init_app(app)
    tracking.init_app(app, log_content=config.log_content)
    access.init_app(app, config)
    for door in DOORS:
        import_module(f"handlers.{door}").init_app(app)

    if not config.api_key_configured:
        log.warning("DASHSCOPE_API_KEY is not set: /health works, every call answers 503 until it is set")
    if callers is not None:
        log.info("callers: %s store%s", callers.kind,
                 " (limits are per instance: set REDIS_URL to share them)" if callers.kind == "memory" else "")
        if config.callers_fail_open:
            log.warning("CALLERS_FAIL_OPEN is set: while Redis is unreachable, known caller keys pass WITHOUT "
                        "their limits (each such pass is logged)")
        if not config.invoke_tokens and config.loopback_only:
            log.info("callers are configured but INVOKE_TOKEN is not: a call without a caller key is the owner's "
                     "(only this machine can call: HOST is loopback)")
        elif not config.invoke_tokens:
            log.warning("callers are configured but INVOKE_TOKEN is not: a call without a caller key is the "
                        "owner's, unlimited (set INVOKE_TOKEN so that only caller keys and your token get in)")
    for warning in retired_model_warnings(_model_settings(config), config.model_aliases):
        log.warning(warning)
    if config.dashscope_base_url:
        log.warning("DashScope calls go to %s (DASHSCOPE_HTTP_BASE_URL), not to DashScope",
                    _without_password(config.dashscope_base_url))
    return app


def _model_settings(config: Config) -> dict[str, tuple[str, ...]]:
    """The settings that name models, for the start-up warning about retired ones."""
    from core.callers.settings import parse_callers  # checked at start already: this parse cannot fail

    settings = {"QWEN_MODEL": (config.default_model,), "QWEN_MODELS": config.listed_models,
                "ALLOWED_MODELS": config.allowed_models}
    for caller in parse_callers(config.callers).values():
        settings[f"CALLERS (caller {caller.name})"] = caller.models or ()
    return settings


def _without_password(url: str) -> str:
    """The URL as it may be logged: a password in it (user:password@host) masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
