"""The function owner's rules, applied to every call whichever door it came through."""

from __future__ import annotations

import dataclasses
from typing import Any

from core.config import Config
from core.errors import InvalidRequest, ServiceNotConfigured
from core.upstream.tokens import check_input_tokens
from core.retired_models import resolve_model
from core.types import Call, GenerationCall, TokenizationCall


def apply_owner_policy(call: Call, config: Config) -> tuple[Call, dict[str, Any]]:
    """MODEL_ALIASES and retired models, ALLOWED_MODELS, MAX_TOKENS_CAP, MAX_INPUT_TOKENS, and a key to
    call with. Returns the call to make, and what the request's log line should say about what the
    rules did. Embedding calls (the native door) meet the model rules and ALLOWED_MODELS only;
    tokenizer calls those and MAX_INPUT_TOKENS, and need no key. Every later check sees the model
    really called."""
    call, notes = resolve_model(call, config.model_aliases)
    if config.allowed_models and call.model not in config.allowed_models:
        raise InvalidRequest(
            f"the model `{call.model}` is not allowed by this function; allowed: {', '.join(config.allowed_models)}",
            param="model",
        )
    if isinstance(call, GenerationCall):
        cap = config.max_tokens_cap
        asked = call.parameters.get("max_tokens")
        if cap is not None and (asked is None or asked > cap):
            # Clamped, not refused: the caller still gets an answer, at most `cap` tokens long.
            notes["max_tokens_clamped_from"] = asked
            call = dataclasses.replace(call, parameters={**call.parameters, "max_tokens": cap})
        # Before any upstream call: an input too long for the owner's limit costs nothing.
        notes.update(check_input_tokens(call, config.max_input_tokens))
    elif isinstance(call, TokenizationCall):
        # The tokenizer's work (and its answer) grows with its input: the same bound as a call's.
        notes.update(check_input_tokens(call, config.max_input_tokens))  # type: ignore[arg-type]
    if not config.api_key_configured and not isinstance(call, TokenizationCall):
        raise ServiceNotConfigured()
    return call, notes
