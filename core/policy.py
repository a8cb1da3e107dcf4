"""The function owner's rules, applied to every call whichever door it came through."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.config import Config
from core.errors import InvalidRequest, ServiceNotConfigured
from core.types import GenerationCall


def apply_owner_policy(call: GenerationCall, config: Config) -> tuple[GenerationCall, dict[str, Any]]:
    """ALLOWED_MODELS, MAX_TOKENS_CAP, and a key to call with. Returns the call to make, and what
    the request's log line should say about what the rules did."""
    if config.allowed_models and call.model not in config.allowed_models:
        raise InvalidRequest(
            f"the model `{call.model}` is not allowed by this function; allowed: {', '.join(config.allowed_models)}",
            param="model",
        )
    notes: dict[str, Any] = {}
    cap = config.max_tokens_cap
    asked = call.parameters.get("max_tokens")
    if cap is not None and (asked is None or asked > cap):
        # Clamped, not refused: the caller still gets an answer, at most `cap` tokens long.
        notes["max_tokens_clamped_from"] = asked
        call = dataclasses.replace(call, parameters={**call.parameters, "max_tokens": cap})
    if not config.api_key_configured:
        raise ServiceNotConfigured()
    return call, notes
