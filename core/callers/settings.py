"""The settings behind callers, parsed and checked once at start-up.

    CALLERS        callers for the in-process store (no REDIS_URL):
                   `name:secret[:rpm=N,tpm=N,budget_tokens=N,max_in_flight=N,models=a|b]`, entries joined by `;`.
                   secret is a key (`qfc_...`) or, better, its hash (`sha256:<hex>`, what
                   `scripts/callers keygen NAME` prints), so the environment never holds the key.
    MODEL_LIMITS   account-wide limits per model: `qwen-plus:rpm=600,tpm=1000000;qwen-max:rpm=60`.
    MODEL_PRICES   see core/callers/pricing.py.
"""

from __future__ import annotations

import re
from typing import Callable, TypeVar

from core.callers.model import HASH_PREFIX, KEY_PREFIX, Caller, check_name, key_hash

T = TypeVar("T")
CALLER_OPTIONS = {"rpm", "tpm", "budget_tokens", "models", "max_in_flight"}
HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _options(text: str, setting: str, where: str, allowed: set[str], convert: Callable[[str], T]) -> dict[str, T]:
    options: dict[str, T] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in allowed:
            raise ValueError(f"{setting}: {where}: {item!r} is not one of {', '.join(sorted(allowed))} as name=value")
        try:
            options[name] = convert(value.strip())
        except ValueError as error:
            raise ValueError(f"{setting}: {where}: {name}: {error}") from None
    return options


def parse_entries(raw: str, setting: str, allowed: set[str], convert: Callable[[str], T]) -> dict[str, dict[str, T]]:
    """`a:x=1,y=2;b:x=3` -> {"a": {"x": 1, "y": 2}, "b": {"x": 3}}."""
    entries: dict[str, dict[str, T]] = {}
    for entry in filter(None, (part.strip() for part in raw.split(";"))):
        name, _, options = entry.partition(":")
        name = name.strip()
        if not name or name in entries:
            raise ValueError(f"{setting}: entry {entry!r} needs a name given once")
        entries[name] = _options(options, setting, name, allowed, convert)
    return entries


def parse_model_limits(raw: str) -> dict[str, dict[str, int]]:
    """MODEL_LIMITS -> {"qwen-plus": {"rpm": 600, "tpm": 1000000}}."""
    limits = parse_entries(raw, "MODEL_LIMITS", {"rpm", "tpm"}, _positive_int)
    for model, options in limits.items():
        if not options:
            raise ValueError(f"MODEL_LIMITS: {model!r} needs rpm=N and/or tpm=N")
    return limits


def parse_callers(raw: str) -> dict[str, Caller]:
    """CALLERS -> {key hash: Caller}. Errors name the entry, never echo the secret."""
    callers: dict[str, Caller] = {}
    names: set[str] = set()
    for number, entry in enumerate(filter(None, (part.strip() for part in raw.split(";"))), start=1):
        name, _, rest = entry.partition(":")
        rest = rest.strip()
        # A hash has a colon of its own (sha256:<hex>).
        skip = len(HASH_PREFIX) if rest.startswith(HASH_PREFIX) else 0
        secret, _, options_text = rest[skip:].partition(":")
        secret = rest[:skip] + secret
        where = f"entry {number} ({name.strip() or 'no name'})"
        try:
            name = check_name(name.strip())
        except ValueError as error:
            raise ValueError(f"CALLERS: {where}: {error}") from None
        if name in names:
            raise ValueError(f"CALLERS: {where}: the name {name!r} is given twice")
        secret = secret.strip()
        if secret.startswith(KEY_PREFIX) and len(secret) >= len(KEY_PREFIX) + 32:
            digest = key_hash(secret)
        elif secret.startswith(HASH_PREFIX) and HEX_SHA256.fullmatch(secret[len(HASH_PREFIX):]):
            digest = secret[len(HASH_PREFIX):]
        else:
            raise ValueError(
                f"CALLERS: {where}: the second field must be a caller key ({KEY_PREFIX}..., at least 32 "
                f"characters after the prefix) or its hash ({HASH_PREFIX}<64 hex digits>)"
            )
        if digest in callers:
            raise ValueError(f"CALLERS: {where}: the same key is given to two callers")
        options = _options(options_text, "CALLERS", where, CALLER_OPTIONS, str)
        numbers = {}
        for option, value in options.items():
            if option != "models":
                try:
                    numbers[option] = _positive_int(value)
                except ValueError as error:
                    raise ValueError(f"CALLERS: {where}: {option}: {error}") from None
        models = tuple(m.strip() for m in options["models"].split("|") if m.strip()) if "models" in options else None
        callers[digest] = Caller(name, numbers.get("rpm"), numbers.get("tpm"), numbers.get("budget_tokens"), models or None,
                                 max_in_flight=numbers.get("max_in_flight"))
        names.add(name)
    return callers
