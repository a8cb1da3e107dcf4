"""The function's configuration, read once from the environment when the app is built."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, Mapping

InvokeMode = Literal["messages", "prompt"]
INVOKE_MODES: tuple[InvokeMode, ...] = ("messages", "prompt")

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
DEFAULT_LISTED_MODELS = ("qwen-plus", "qwen-flash", "qwen-max")
DEFAULT_MODEL = "qwen-plus"
MIB = 1024 * 1024
DEFAULT_CALL_DEADLINE_S = 590.0
# OpenAI keeps a stored response 30 days; here 7 by default: each one keeps its whole conversation.
DEFAULT_RESPONSES_TTL_S = 7 * 86400
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """An environment variable holds a value the function cannot start with."""


def _raw(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name, "").strip()


def _seconds_env(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = _raw(environ, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {raw!r}")
    return value


def _int_env(environ: Mapping[str, str], name: str, default: int | None, minimum: int = 1) -> int | None:
    raw = _raw(environ, name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum}, got {raw!r}")
    return int(raw)


def server_number(environ: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    """A whole number gunicorn.conf.py reads (PORT, WEB_CONCURRENCY, THREADS), from 1 to `maximum`."""
    raw = _raw(environ, name) or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ConfigError(f"{name} must be a whole number from 1 to {maximum}, got {raw!r}")
    return int(raw)


def _list_env(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = _raw(environ, name)
    if not raw:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _bool_env(environ: Mapping[str, str], name: str) -> bool:
    return _raw(environ, name).lower() in {"1", "true", "yes", "on"}


def _model_aliases(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    from core.retired_models import parse_model_aliases

    try:
        return parse_model_aliases(_raw(environ, "MODEL_ALIASES"))
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _model_map(environ: Mapping[str, str], name: str) -> tuple[tuple[str, str], ...]:
    from core.model_map import parse_model_map
    try:
        return parse_model_map(_raw(environ, name), name)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _check_caller_settings(config: "Config") -> None:
    """Refuse to start on a malformed CALLERS, MODEL_LIMITS or MODEL_PRICES (messages never echo a key)."""
    from core.callers.pricing import parse_prices
    from core.callers.settings import parse_callers, parse_model_limits

    try:
        parse_callers(config.callers)
        parse_model_limits(config.model_limits)
        parse_prices(config.model_prices)
        if config.redis_url and config.callers:
            raise ValueError("CALLERS is for runs without Redis: with REDIS_URL, add callers with scripts/callers")
    except ValueError as error:
        raise ConfigError(str(error)) from None


@dataclass(frozen=True)
class Config:
    # repr=False: a config printed in a log or traceback must never show a secret.
    dashscope_api_key: str | None = field(default=None, repr=False)
    # Where the SDK sends calls; None means DashScope itself. Tests and local runs point it at the emulator.
    dashscope_base_url: str | None = None
    default_model: str = DEFAULT_MODEL
    # What GET /v1/models lists besides the default model.
    listed_models: tuple[str, ...] = DEFAULT_LISTED_MODELS
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    invoke_mode: InvokeMode = "messages"
    upstream_timeout_s: float = 300.0
    # The most one call may take in all (UPSTREAM_TIMEOUT_S bounds only a silence): under s.yaml's
    # function timeout (600 s), so a caller gets this function's 504, not FC cutting the call.
    call_deadline_s: float = DEFAULT_CALL_DEADLINE_S
    log_level: str = "INFO"
    # The time a client has to send a whole request: its head (web/server/worker.py) and its whole body
    # (web/request_body.py), so a body sent in part never holds a thread or a MAX_IN_FLIGHT slot.
    request_read_timeout_s: float = 10.0
    # Hardening. Empty or None means "off".
    invoke_tokens: tuple[str, ...] = field(default=(), repr=False)
    max_body_bytes: int = MIB
    allowed_models: tuple[str, ...] = ()
    max_tokens_cap: int | None = None
    upstream_retries: int = 2
    # First backoff before a retry; each next one doubles, with jitter.
    upstream_retry_backoff_s: float = 0.5
    max_in_flight: int | None = None
    # A caller's calls at once on one instance (a caller's own max_in_flight wins); None: the default,
    # 16, or half of MAX_IN_FLIGHT when that is less, so no caller can hold every slot.
    caller_max_in_flight: int | None = None
    cors_origins: tuple[str, ...] = ()
    log_content: bool = False
    try_page: bool = False
    # Callers (core/callers/): REDIS_URL shares them across instances; CALLERS is the in-process store.
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    callers: str = field(default="", repr=False)  # may hold keys
    model_limits: str = ""
    model_prices: str = ""
    callers_fail_open: bool = False
    # How long the Responses door keeps a stored response and its conversation (core/conversations.py).
    responses_ttl_s: int = DEFAULT_RESPONSES_TTL_S
    # A header naming the caller, set by FC's HTTP trigger from a verified JWT's claim (authType jwt,
    # claimPassBy): limits and usage then work with no keys. Only set it behind such a trigger.
    caller_name_header: str | None = None
    # Model names or globs forced onto DashScope's multimodal / text endpoint (core/models.py), for
    # models DashScope adds after this release; they come before the built-in rules.
    multimodal_models: tuple[str, ...] = ()
    text_models: tuple[str, ...] = ()
    # The owner's DashScope account (issue 13): the workspace every call names (X-DashScope-WorkSpace,
    # needed by sub-account keys), and MAX_INPUT_TOKENS as (model or "*", limit) pairs.
    dashscope_workspace_id: str | None = None
    max_input_tokens: tuple[tuple[str, int], ...] = ()
    # MODEL_ALIASES (core/retired_models.py): (old name lower-cased, name called) pairs, applied first.
    model_aliases: tuple[tuple[str, str], ...] = ()
    # ANTHROPIC_MODEL_MAP (core/model_map.py): (glob lower-cased, model) pairs for the Anthropic door's
    # `claude-…` names; without a match such a name is a 404 naming the setting.
    anthropic_model_map: tuple[tuple[str, str], ...] = ()
    # gunicorn binds HOST (gunicorn.conf.py): on loopback (scripts/run-local.sh) only this machine can
    # call, so the warnings about an open function are notes there.
    loopback_only: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        env = os.environ if environ is None else environ
        mode = _raw(env, "INVOKE_MODE").lower() or "messages"
        if mode not in INVOKE_MODES:
            raise ConfigError(f"INVOKE_MODE must be one of {', '.join(INVOKE_MODES)}, got {mode!r}")
        log_level = (_raw(env, "LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {_raw(env, 'LOG_LEVEL')!r}")
        config = cls(
            dashscope_api_key=_raw(env, "DASHSCOPE_API_KEY") or None,
            default_model=_raw(env, "QWEN_MODEL") or DEFAULT_MODEL,
            listed_models=_list_env(env, "QWEN_MODELS", DEFAULT_LISTED_MODELS),
            system_prompt=env.get("SYSTEM_PROMPT") or DEFAULT_SYSTEM_PROMPT,
            invoke_mode=mode,  # type: ignore[arg-type]
            upstream_timeout_s=_seconds_env(env, "UPSTREAM_TIMEOUT_S", 300.0),
            call_deadline_s=_seconds_env(env, "CALL_DEADLINE_S", DEFAULT_CALL_DEADLINE_S),
            log_level=log_level,
            request_read_timeout_s=_seconds_env(env, "REQUEST_READ_TIMEOUT_S", 10.0),
            invoke_tokens=_list_env(env, "INVOKE_TOKEN", ()),
            max_body_bytes=_int_env(env, "MAX_BODY_BYTES", MIB),  # type: ignore[arg-type]
            allowed_models=_list_env(env, "ALLOWED_MODELS", ()),
            max_tokens_cap=_int_env(env, "MAX_TOKENS_CAP", None),
            upstream_retries=_int_env(env, "UPSTREAM_RETRIES", 2, minimum=0),  # type: ignore[arg-type]
            upstream_retry_backoff_s=_seconds_env(env, "UPSTREAM_RETRY_BACKOFF_S", 0.5),
            max_in_flight=_int_env(env, "MAX_IN_FLIGHT", None),
            caller_max_in_flight=_int_env(env, "CALLER_MAX_IN_FLIGHT", None),
            cors_origins=_list_env(env, "CORS_ORIGINS", ()),
            log_content=_bool_env(env, "LOG_CONTENT"),
            try_page=_bool_env(env, "TRY_PAGE"),
            redis_url=_raw(env, "REDIS_URL") or None,
            callers=_raw(env, "CALLERS"),
            model_limits=_raw(env, "MODEL_LIMITS"),
            model_prices=_raw(env, "MODEL_PRICES"),
            callers_fail_open=_bool_env(env, "CALLERS_FAIL_OPEN"),
            responses_ttl_s=_int_env(env, "RESPONSES_TTL_S", DEFAULT_RESPONSES_TTL_S),  # type: ignore[arg-type]
            caller_name_header=_raw(env, "CALLER_NAME_HEADER") or None,
            multimodal_models=_list_env(env, "MULTIMODAL_MODELS", ()),
            text_models=_list_env(env, "TEXT_MODELS", ()),
            model_aliases=_model_aliases(env),
            anthropic_model_map=_model_map(env, "ANTHROPIC_MODEL_MAP"),
            loopback_only=_raw(env, "HOST").lower() in {"127.0.0.1", "localhost", "::1"},
            **account_settings(env),  # type: ignore[arg-type]
        )
        _check_caller_settings(config)
        if config.caller_name_header and not (config.redis_url or config.callers):
            raise ConfigError("CALLER_NAME_HEADER names callers: it needs REDIS_URL (or CALLERS) to find them in")
        both = sorted({name.lower() for name in config.multimodal_models} & {n.lower() for n in config.text_models})
        if both:
            raise ConfigError(f"MULTIMODAL_MODELS and TEXT_MODELS both list {', '.join(both)}: keep each in one")
        from core.parameters import MODEL_NAME_MAX_LENGTH, MODEL_NAME_PATTERN

        if len(config.default_model) > MODEL_NAME_MAX_LENGTH or not MODEL_NAME_PATTERN.fullmatch(config.default_model):
            raise ConfigError(f"QWEN_MODEL must be a model name (letters, digits, . _ - : /), got {config.default_model[:200]!r}")
        if config.allowed_models and config.default_model not in config.allowed_models:
            raise ConfigError(
                f"QWEN_MODEL {config.default_model!r} is not in ALLOWED_MODELS ({', '.join(config.allowed_models)})"
            )
        return config

    @property
    def api_key_configured(self) -> bool:
        return self.dashscope_api_key is not None

    @property
    def caller_in_flight_limit(self) -> int:
        """CALLER_MAX_IN_FLIGHT, else 16 or half of MAX_IN_FLIGHT (at least 1), whichever is less."""
        if self.caller_max_in_flight is not None:
            return self.caller_max_in_flight
        return min(16, max(1, self.max_in_flight // 2)) if self.max_in_flight else 16

    @property
    def served_models(self) -> tuple[str, ...]:
        """What GET /v1/models lists: the default first, then the listed (or, if set, the allowed) ones."""
        listed = self.allowed_models or self.listed_models
        return tuple(dict.fromkeys([self.default_model, *listed]))


# -- the owner's DashScope account and input limits (issue 13) ------------------------------------
# DASHSCOPE_REGION: where the function's key lives (keys are region-specific). DASHSCOPE_HTTP_BASE_URL,
# when set, wins; any other endpoint (a workspace's MaaS host, a VPC endpoint) goes there.
REGION_BASE_URLS = {
    "cn-beijing": "https://dashscope.aliyuncs.com/api/v1",
    "ap-southeast-1": "https://dashscope-intl.aliyuncs.com/api/v1",
    "us-east-1": "https://dashscope-us.aliyuncs.com/api/v1",
}
REGION_ALIASES = {"cn": "cn-beijing", "beijing": "cn-beijing", "intl": "ap-southeast-1", "singapore": "ap-southeast-1",
                  "us": "us-east-1", "virginia": "us-east-1"}


def region_base_url(environ: Mapping[str, str]) -> str | None:
    """The base URL DASHSCOPE_REGION names, None when unset."""
    raw = _raw(environ, "DASHSCOPE_REGION").lower()
    if not raw:
        return None
    region = REGION_ALIASES.get(raw, raw)
    if region not in REGION_BASE_URLS:
        choices = ", ".join([*REGION_BASE_URLS, *REGION_ALIASES])
        raise ConfigError(f"DASHSCOPE_REGION must be one of {choices} (or set DASHSCOPE_HTTP_BASE_URL), got {raw!r}")
    return REGION_BASE_URLS[region]


def parse_max_input_tokens(raw: str) -> tuple[tuple[str, int], ...]:
    """MAX_INPUT_TOKENS: one number for every model (`30000`), per model (`qwen-plus=30000,qwen-max=8000`),
    or both (a bare number is the limit for models not named)."""
    limits: list[tuple[str, int]] = []
    for item in (piece.strip() for piece in raw.split(",")):
        if not item:
            continue
        model, _, number = item.rpartition("=") if "=" in item else ("*", "", item)
        model, number = model.strip() or "*", number.strip()
        if not number.isdigit() or int(number) < 1:
            raise ConfigError(f"MAX_INPUT_TOKENS: {item!r} must be a whole number of tokens, or model=number")
        limits.append((model, int(number)))
    return tuple(limits)


def account_settings(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The fields `Config.from_env` reads for the owner's account and the input limit."""
    env = os.environ if environ is None else environ
    workspace = _raw(env, "DASHSCOPE_WORKSPACE_ID")
    if workspace and not all(c.isalnum() or c in "-_" for c in workspace):
        raise ConfigError(f"DASHSCOPE_WORKSPACE_ID must be a workspace id (letters, digits, - and _), got {workspace!r}")
    return {
        "dashscope_base_url": _raw(env, "DASHSCOPE_HTTP_BASE_URL") or region_base_url(env),
        "dashscope_workspace_id": workspace or None,
        "max_input_tokens": parse_max_input_tokens(_raw(env, "MAX_INPUT_TOKENS")),
    }
