"""A setting that maps model names by glob pattern (`claude-*=qwen3.6-plus,claude-*haiku*=qwen-flash`):
a door whose clients name models of another vendor (the Anthropic door's `claude-…` names) calls the
Qwen model the owner chose. Parsed once at start (core/config.py); the first pattern that matches wins.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from core.retired_models import retired

ModelMap = tuple[tuple[str, str], ...]  # (pattern lower-cased, model called)


def parse_model_map(raw: str, setting: str) -> ModelMap:
    """`pattern=model` pairs joined by commas. Raises ValueError naming the bad pair."""
    pairs: list[tuple[str, str]] = []
    for item in (piece.strip() for piece in raw.split(",")):
        if not item:
            continue
        pattern, sep, model = (part.strip() for part in item.partition("="))
        if not sep or not pattern or not model or "=" in model or any(c in model for c in "*?["):
            raise ValueError(f"{setting}: {item!r} must be pattern=model (a glob such as claude-*, then a model name), "
                             "pairs joined by commas")
        found = retired(model)
        if found:
            raise ValueError(f"{setting} maps {pattern!r} to {model!r}, which DashScope retired on {found.retired_on}"
                             + (f": map it to {found.replacement!r}" if found.replacement else ""))
        pairs.append((pattern.lower(), model))
    return tuple(pairs)


def mapped_model(model: str, model_map: ModelMap) -> str | None:
    """The model `model` maps to (the first pattern matching it, case-insensitively), or None."""
    name = model.lower()
    for pattern, target in model_map:
        if fnmatchcase(name, pattern):
            return target
    return None
