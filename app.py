"""Builds the Flask app from a config object read once from the environment.

gunicorn serves ``app:create_app()`` (see gunicorn.conf.py and s.yaml); tests call
``create_app(Config(...))`` directly.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask

from core.callers import build_store
from core.config import Config
from core.retired_models import retired_model_warnings
from core.upstream import QwenUpstream
from handlers.invoke import views as invoke
from handlers.native import views as native
from handlers.openai import views as openai
from handlers.page import views as page
from handlers.system import views as system
from web.access import install_access_control
from web.errors import register_error_handlers
from web.json_output import CompactJsonProvider
from web.services import EXTENSION_KEY, Services
from web.tracking import configure_logging, install_request_tracking, note

log = logging.getLogger("qwenfc")


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    configure_logging(config.log_level)

    app = Flask(__name__)
    app.json = CompactJsonProvider(app)
    upstream = QwenUpstream(
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
    callers = build_store(redis_url=config.redis_url, callers=config.callers, model_limits=config.model_limits,
                          model_prices=config.model_prices, fail_open=config.callers_fail_open)
    app.extensions[EXTENSION_KEY] = Services.build(config, upstream, callers)

    register_error_handlers(app)
    install_request_tracking(app, log_content=config.log_content)
    install_access_control(app, config)
    app.register_blueprint(invoke.bp)
    app.register_blueprint(system.bp)
    app.register_blueprint(page.bp)
    openai.register(app)
    native.register(app)

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
