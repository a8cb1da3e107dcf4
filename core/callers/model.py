"""A caller (one system calling the function with its own key), its key, and the tokens of a call."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

KEY_PREFIX = "qfc_"
HASH_PREFIX = "sha256:"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # fullmatch: `$` would match before a newline


@dataclass(frozen=True)
class Caller:
    name: str
    rpm: int | None = None  # requests per minute; None: no limit
    tpm: int | None = None  # tokens (input + output) per minute, settled after each call
    budget_tokens: int | None = None  # total tokens this caller may spend; None: no budget
    models: tuple[str, ...] | None = None  # allow-list; None: every model the function serves
    created: str = ""  # ISO 8601, UTC
    # calls at once on one instance, from before the body is read; None: CALLER_MAX_IN_FLIGHT
    max_in_flight: int | None = None

    def may_use(self, model: str) -> bool:
        return self.models is None or model in self.models


# The function owner's INVOKE_TOKEN calls, when a store exists: unlimited, but counted against the
# account-wide MODEL_LIMITS and reported in usage. The parentheses keep it apart from every caller
# name (NAME_PATTERN starts with a letter or digit), so no caller can be or impersonate the owner.
OWNER = Caller("(owner)")


def new_key() -> str:
    """A new caller key: the prefix makes it recognisable (in a leak scan, in a log), 256 random bits
    make it unguessable."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """What is stored instead of the key. A plain sha256 is enough here (no salt, no slow KDF): keys
    are 256-bit random secrets, not passwords, so there is no dictionary to try and brute force is
    hopeless; a fast hash also keeps the per-request lookup cheap."""
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    """Whether a bearer token is meant as a caller key (as opposed to the owner's INVOKE_TOKEN)."""
    return token.startswith(KEY_PREFIX)


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"caller name {name!r}: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Tokens:
    """The usage of one call. Reasoning tokens are part of the output tokens (DashScope bills them as
    output); they are counted apart only to be reported. Cached (a context-cache hit) and
    cache-creation tokens are part of the input tokens, counted apart because DashScope bills them
    apart; `explicit_cache`: the call used the explicit cache (`cache_control`), not the implicit one."""

    input: int = 0
    output: int = 0
    reasoning: int = 0
    cached: int = 0
    cache_creation: int = 0
    explicit_cache: bool = False

    @property
    def total(self) -> int:
        return self.input + self.output

    @classmethod
    def from_usage(cls, usage: Mapping[str, Any] | None) -> "Tokens":
        """DashScope's usage (input_tokens, output_tokens, output_tokens_details.reasoning_tokens) or
        OpenAI's (prompt_tokens, completion_tokens, completion_tokens_details.reasoning_tokens). An
        embedding's usage has only `total_tokens`: all of them input. Both carry the context cache's
        `prompt_tokens_details` (cached_tokens, cache_creation_input_tokens, cache_type)."""
        usage = usage or {}

        def number(*names: str) -> int:
            for name in names:
                value = usage.get(name)
                if isinstance(value, int) and value >= 0:
                    return value
            return 0

        details = usage.get("output_tokens_details") or usage.get("completion_tokens_details") or {}
        reasoning = number("reasoning_tokens")
        if not reasoning and isinstance(details, Mapping):
            value = details.get("reasoning_tokens")
            reasoning = value if isinstance(value, int) and value >= 0 else 0
        cache = usage.get("prompt_tokens_details")
        cache = cache if isinstance(cache, Mapping) else {}

        def cache_number(name: str) -> int:
            value = cache.get(name)
            return value if isinstance(value, int) and value >= 0 else 0

        explicit = cache.get("cache_type") == "ephemeral" or "cache_creation_input_tokens" in cache
        return cls(number("input_tokens", "prompt_tokens", "total_tokens"), number("output_tokens", "completion_tokens"),
                   reasoning, cache_number("cached_tokens"), cache_number("cache_creation_input_tokens"), explicit)
