"""What a model name may be, checked the same way on every door. Pure."""

from __future__ import annotations

import re
from typing import Any

from core.errors import InvalidRequest

# What a model name may be: DashScope's names (qwen-plus, qwen3.6-plus, qwen2.5-vl-72b-instruct,
# text-embedding-v4, a fine-tune's qwen-plus-ft-202501011200-a1b2, a dated snapshot) use letters,
# digits, '.', '-' and '_'; ':' and '/' leave room for names like ft:... or owner/model. Anything else,
# or longer, is refused before it is logged, counted or stored (a Redis key, a usage row).
MODEL_NAME_MAX_LENGTH = 128
MODEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")
MODEL_NAME_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MODEL_NAME_MAX_LENGTH,
                     "pattern": "^[A-Za-z0-9][A-Za-z0-9._:/-]*$"}


def check_model_name(value: Any) -> str:
    """`value` if it is a plausible model name, else a 400 naming `model` (never echoing the value)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("`model` must be a non-empty string, such as \"qwen-plus\"", param="model")
    if len(value) > MODEL_NAME_MAX_LENGTH or not MODEL_NAME_PATTERN.fullmatch(value):
        raise InvalidRequest(
            f"`model` must be a model name: at most {MODEL_NAME_MAX_LENGTH} letters, digits, '.', '_', '-', ':' or '/', "
            f"starting with a letter or digit (got {len(value)} characters)", param="model")
    return value


def model_name(value: Any, default: str) -> str:
    """The model a request names, or the function's default when it names none."""
    if value is None:
        return default
    return check_model_name(value)
