"""OpenAI's field names in a DashScope call: the fields DashScope has no equivalent for (refused unless
their value asks for nothing), the ones dropped when neutral, and `max_completion_tokens` as DashScope's
`max_tokens`. Every door that takes OpenAI's names uses them: /v1's chat parser and /invoke's bodies
(DashScope's own shape with OpenAI's names mixed in). Pure.
"""

from __future__ import annotations

from typing import Any

from core.errors import InvalidRequest
from core.json_input import whole_numbers
from core.web_search import map_web_search_options

# OpenAI fields DashScope has no equivalent for -> (values that ask for nothing, what to do instead).
UNSUPPORTED: dict[str, tuple[tuple[Any, ...], str]] = {
    "frequency_penalty": ((0,), "DashScope has `presence_penalty`, and `repetition_penalty` as an extra body field"),
    "logit_bias": (({},), "DashScope has no logit bias"),
    "functions": ((), "use `tools`"),
    "function_call": ((), "use `tool_choice`"),
    "audio": ((), "DashScope's Qwen models answer in text here; audio output is not served"),
    "modalities": ((["text"],), "DashScope's Qwen models answer in text here; audio output is not served"),
    "prediction": ((), "DashScope has no predicted outputs"),
    "verbosity": ((), "DashScope has no verbosity setting"),
    "store": ((False,), "completions are not stored"),
    "metadata": (({},), "completions are not stored, so there is nothing to attach metadata to"),
    "service_tier": (("auto", "default"), "DashScope has no service tiers"),
    "prompt_cache_key": ((), "DashScope caches prompts on its own; there is no key to set"),
    "prompt_cache_options": ((), "DashScope caches prompts on its own"),
    "prompt_cache_retention": ((), "DashScope caches prompts on its own"),
    "moderation": ((), "DashScope moderates on its own"),
}
# Fields DashScope takes, dropped when their value asks for nothing (what DashScope does anyway), so
# that a call which does not use them reaches DashScope exactly as before (not every model takes `n`).
DROPPED_WHEN_NEUTRAL: dict[str, tuple[Any, ...]] = {"n": (1,), "logprobs": (False,), "top_logprobs": (0,)}


def asks_for_nothing(value: Any, neutral: tuple[Any, ...]) -> bool:
    # Compared with bool kept apart from int: `n: true` is not `n: 1`, `logprobs: 0` not `false`.
    return any(value == n and isinstance(value, bool) == isinstance(n, bool) for n in neutral)


def compatible_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's names in a DashScope call (/invoke): `max_completion_tokens` becomes `max_tokens`, and
    a field DashScope cannot honour (UNSUPPORTED) is refused as /v1 refuses it, never passed on."""
    if not parameters:  # raw text and plain bodies: nothing to convert
        return parameters
    if "web_search_options" in parameters:
        parameters, _notes = map_web_search_options(parameters)
    for name, value in parameters.items():
        if name in UNSUPPORTED and value is not None:
            neutral, instead = UNSUPPORTED[name]
            if not asks_for_nothing(value, neutral):
                raise InvalidRequest(f"`{name}` is not supported by DashScope: {instead}", param=name)
    neutral = {
        name for name in DROPPED_WHEN_NEUTRAL.keys() & parameters.keys()
        if asks_for_nothing(parameters[name], DROPPED_WHEN_NEUTRAL[name])
    }
    if "max_completion_tokens" not in parameters and not UNSUPPORTED.keys() & parameters.keys() and not neutral:
        return parameters
    converted = {name: value for name, value in parameters.items() if name not in UNSUPPORTED and name not in neutral}
    max_tokens = max_tokens_of(converted)
    converted.pop("max_completion_tokens", None)
    if max_tokens is not None:
        converted["max_tokens"] = max_tokens
    return converted


def max_tokens_of(body: dict[str, Any]) -> Any:
    limits = whole_numbers({"max_tokens": body.get("max_tokens"), "max_completion_tokens": body.get("max_completion_tokens")})
    legacy, current = limits["max_tokens"], limits["max_completion_tokens"]
    if legacy is not None and current is not None and legacy != current:
        raise InvalidRequest(
            "`max_tokens` and `max_completion_tokens` disagree; send one of them", param="max_completion_tokens"
        )
    if current is not None and (type(current) is not int or current < 1):  # named as sent (bool is no int here)
        raise InvalidRequest(f"`max_completion_tokens` must be at least 1, got {current!r}", param="max_completion_tokens")
    return current if current is not None else legacy
