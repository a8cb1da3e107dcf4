"""The function's configuration, read once from the environment when the app is built."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, Mapping

InvokeMode = Literal["messages", "prompt"]
INVOKE_MODES: tuple[InvokeMode, ...] = ("messages", "prompt")

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
DEFAULT_LISTED_MODELS = ("qwen-turbo", "qwen-plus", "qwen-max")


class ConfigError(ValueError):
    """An environment variable holds a value the function cannot start with."""


def _float_env(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {raw!r}")
    return value


def _list_env(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Config:
    # repr=False: a config printed in a log or traceback must never show the key.
    dashscope_api_key: str | None = field(default=None, repr=False)
    # Where the SDK sends calls; None means DashScope itself. Tests and local runs point it at the emulator.
    dashscope_base_url: str | None = None
    default_model: str = "qwen-turbo"
    # What GET /v1/models lists besides the default model.
    listed_models: tuple[str, ...] = DEFAULT_LISTED_MODELS
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    invoke_mode: InvokeMode = "messages"
    upstream_timeout_s: float = 300.0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        env = os.environ if environ is None else environ
        mode = env.get("INVOKE_MODE", "messages").strip().lower() or "messages"
        if mode not in INVOKE_MODES:
            raise ConfigError(f"INVOKE_MODE must be one of {', '.join(INVOKE_MODES)}, got {mode!r}")
        return cls(
            dashscope_api_key=env.get("DASHSCOPE_API_KEY", "").strip() or None,
            dashscope_base_url=env.get("DASHSCOPE_HTTP_BASE_URL", "").strip() or None,
            default_model=env.get("QWEN_MODEL", "").strip() or "qwen-turbo",
            listed_models=_list_env(env, "QWEN_MODELS", DEFAULT_LISTED_MODELS),
            system_prompt=env.get("SYSTEM_PROMPT") or DEFAULT_SYSTEM_PROMPT,
            invoke_mode=mode,  # type: ignore[arg-type]
            upstream_timeout_s=_float_env(env, "UPSTREAM_TIMEOUT_S", 300.0),
            log_level=(env.get("LOG_LEVEL", "").strip() or "INFO").upper(),
        )

    @property
    def api_key_configured(self) -> bool:
        return self.dashscope_api_key is not None
