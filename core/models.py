"""What the function knows about a model from its name: which DashScope endpoint serves it, whether
it takes media, whether it thinks, and whether its call must be streamed upstream.

Rules by name, as DashScope's model list reads in late 2026 (sources and confidence in
docs/models.md). Names are compared lower-cased, split into tokens on "-" and "_" (not ".", which
belongs to version numbers: ``qwen2.5-vl-72b`` is ``qwen2.5`` + ``vl`` + ``72b``).

- Endpoint: VL (a ``vl`` token), omni, audio, QVQ, Qwen 3.5 and later (``qwen3.5-*``, ``qwen3.6-*``,
  ``qwen4-*``: the version is parsed as numbers, so ``qwen3.10`` counts as later than ``qwen3.5``)
  and Kimi K2.5 and later live on the multimodal endpoint; everything else on the text endpoint.
  The owner's MULTIMODAL_MODELS / TEXT_MODELS settings (names or globs) come first, for models
  DashScope adds later.
- Thinking: QwQ, QVQ, DeepSeek-R1 and ``*-thinking*`` models always think; Qwen 3.5+ and the
  open-source Qwen3 sizes (``qwen3-32b``) think unless told not to; instruct, coder and MT models
  never do; the rest only when the call sets ``enable_thinking: true``.
- Streaming upstream: every call that thinks, and every omni call (see `needs_stream` for why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Literal

if TYPE_CHECKING:
    from core.config import Config

Endpoint = Literal["text", "multimodal"]

_TOKEN_SPLIT = re.compile(r"[-_]")
# A family name then its version: "qwen3.5-plus" -> ("qwen", 3, 5); "qwen-max" has none.
_VERSIONED = re.compile(r"^(qwen|kimi-k)(\d+)(?:\.(\d+))?(?=$|[-_])")
# The first version of each family that lives on the multimodal endpoint, even for text-only calls.
_MULTIMODAL_FROM: dict[str, tuple[int, int]] = {"qwen": (3, 5), "kimi-k": (2, 5)}
# From Qwen 3.5 on, hybrid models think unless the call turns it off.
_THINKS_BY_DEFAULT_FROM = (3, 5)
# Qwen3's open-source sizes (qwen3-8b, qwen3-30b-a3b, qwen3-235b-a22b) think by default; the
# commercial qwen3-max, qwen-plus, ... do not.
_QWEN3_OPEN_SOURCE = re.compile(r"^qwen3-\d+(\.\d+)?b(-a\d+(\.\d+)?b)?$")
# Models that take OpenAI's `reasoning_effort` natively (qwen3.8-max, deepseek-v4): it is passed
# through for them instead of being mapped to enable_thinking / thinking_budget.
_REASONING_EFFORT_FROM: dict[str, tuple[int, int]] = {"qwen": (3, 8)}
_NATIVE_REASONING_EFFORT = re.compile(r"^deepseek-v([4-9]|\d\d)")

_MULTIMODAL_TOKENS = frozenset({"vl", "omni", "audio"})
_MULTIMODAL_PREFIXES = ("qvq",)
_THINKING_ONLY_PREFIXES = ("qwq", "qvq", "deepseek-r1")
_THINKING_ONLY_TOKENS = frozenset({"thinking"})
_NEVER_THINKS_TOKENS = frozenset({"instruct", "mt"})
_NEVER_THINKS_FRAGMENTS = ("coder",)
_ALWAYS_STREAM_TOKENS = frozenset({"omni"})

# DashScope's answers to a non-streamed call that had to be streamed: the fallback for models
# these rules do not know (retry streamed once when a 400 says one of these).
STREAM_ONLY_ERROR_FRAGMENTS = (
    "only support stream mode",
    "enable_thinking must be set to false for non-streaming calls",
    "enable_thinking必须设置为false",
)


def _tokens(name: str) -> frozenset[str]:
    return frozenset(_TOKEN_SPLIT.split(name))


def _version(name: str) -> tuple[str, tuple[int, int]] | None:
    found = _VERSIONED.match(name)
    if not found:
        return None
    return found.group(1), (int(found.group(2)), int(found.group(3) or 0))


def _version_at_least(name: str, floors: dict[str, tuple[int, int]]) -> bool:
    version = _version(name)
    return version is not None and version[0] in floors and version[1] >= floors[version[0]]


def _builtin_endpoint(name: str) -> Endpoint:
    if name.startswith(_MULTIMODAL_PREFIXES) or _tokens(name) & _MULTIMODAL_TOKENS:
        return "multimodal"
    return "multimodal" if _version_at_least(name, _MULTIMODAL_FROM) else "text"


# The answers by name are cached: every call asks them, and a model's name says the same each time
# (bounded: callers choose the names).
_CACHED_NAMES = 1024


@lru_cache(maxsize=_CACHED_NAMES)
def thinking_only(model: str) -> bool:
    """The model always thinks: `enable_thinking: false` cannot turn it off."""
    name = model.strip().lower()
    return name.startswith(_THINKING_ONLY_PREFIXES) or bool(_tokens(name) & _THINKING_ONLY_TOKENS)


@lru_cache(maxsize=_CACHED_NAMES)
def never_thinks(model: str) -> bool:
    name = model.strip().lower()
    if thinking_only(name):
        return False
    return bool(_tokens(name) & _NEVER_THINKS_TOKENS) or any(part in name for part in _NEVER_THINKS_FRAGMENTS)


@lru_cache(maxsize=_CACHED_NAMES)
def thinks_by_default(model: str) -> bool:
    """A call that says nothing about thinking thinks (thinking-only models included)."""
    name = model.strip().lower()
    if thinking_only(name):
        return True
    if never_thinks(name):
        return False
    version = _version(name)
    if version and version[0] == "qwen" and version[1] >= _THINKS_BY_DEFAULT_FROM:
        return True
    return bool(_QWEN3_OPEN_SOURCE.match(name))


def explicit_thinking(parameters: dict[str, Any]) -> bool | None:
    """What the call itself says about thinking: True, False, or None when it says nothing.

    `enable_thinking` decides; failing that a native `reasoning_effort` ("none" is off); a
    `thinking_budget` alone means the caller wants thinking (it only applies while thinking).
    """
    enabled = parameters.get("enable_thinking")
    if isinstance(enabled, bool):
        return enabled
    effort = parameters.get("reasoning_effort")
    if isinstance(effort, str):
        return effort != "none"
    if parameters.get("thinking_budget") is not None:
        return True
    return None


def is_stream_only_error(message: str) -> bool:
    """DashScope refused a non-streamed call because the model (or its thinking) needs a stream."""
    return any(fragment in message for fragment in STREAM_ONLY_ERROR_FRAGMENTS)


def _pattern_rank(pattern: str) -> tuple[bool, int]:
    # Most specific first: an exact name beats any glob, a longer glob beats a shorter one.
    return (not any(char in pattern for char in "*?["), len(pattern))


def _best_match(name: str, patterns: Iterable[str]) -> tuple[bool, int] | None:
    ranks = [_pattern_rank(pattern) for pattern in patterns if fnmatchcase(name, pattern.lower())]
    return max(ranks) if ranks else None


@dataclass(frozen=True)
class ModelRules:
    """The built-in rules plus the owner's overrides (MULTIMODAL_MODELS, TEXT_MODELS: exact names
    or globs such as ``qwen4-*``, matched case-insensitively)."""

    multimodal_models: tuple[str, ...] = ()
    text_models: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: "Config") -> "ModelRules":
        return cls(tuple(config.multimodal_models), tuple(config.text_models))

    def endpoint(self, model: str) -> Endpoint:
        """Which DashScope endpoint serves the model: "text" (the SDK's Generation) or "multimodal"
        (MultiModalConversation)."""
        return _endpoint(self.multimodal_models, self.text_models, model)

    def takes_media(self, model: str) -> bool:
        """Image, video and audio parts reach only the multimodal endpoint; a text model refuses them."""
        return self.endpoint(model) == "multimodal"

    def thinks(self, model: str, parameters: dict[str, Any]) -> bool:
        """Whether this call will think: the model's nature, else the call's say, else its default."""
        if thinking_only(model):
            return True
        asked = explicit_thinking(parameters)
        if asked is not None:
            return asked
        return thinks_by_default(model)

    def needs_stream(self, model: str, parameters: dict[str, Any]) -> bool:
        """Whether the upstream call must be streamed even if the caller did not ask for a stream.

        Every call that thinks is streamed. DashScope refuses thinking without a stream for
        thinking-only and Qwen3 models (400 "only support stream mode" / "enable_thinking must be
        set to false for non-streaming calls"); Qwen 3.5 may allow it (low-confidence evidence), but
        streaming costs the caller nothing (the answer is assembled) and keeps bytes flowing while
        the model thinks for minutes, where a non-streamed call is silent and runs into
        UPSTREAM_TIMEOUT_S. Omni models answer only streamed calls (DashScope's docs).
        """
        if _always_streams(model):
            return True
        return self.thinks(model, parameters)

    def takes_reasoning_effort(self, model: str) -> bool:
        """The model takes `reasoning_effort` itself (qwen3.8-max and later, deepseek-v4)."""
        name = model.strip().lower()
        return _version_at_least(name, _REASONING_EFFORT_FROM) or bool(_NATIVE_REASONING_EFFORT.match(name))


@lru_cache(maxsize=_CACHED_NAMES)
def _endpoint(multimodal_models: tuple[str, ...], text_models: tuple[str, ...], model: str) -> Endpoint:
    name = model.strip().lower()
    multimodal = _best_match(name, multimodal_models)
    text = _best_match(name, text_models)
    if multimodal is not None or text is not None:
        # Both lists match: the more specific pattern wins; an exact tie goes to text, the
        # endpoint every model DashScope has shipped so far answers plain text on.
        return "multimodal" if text is None or (multimodal is not None and multimodal > text) else "text"
    return _builtin_endpoint(name)


@lru_cache(maxsize=_CACHED_NAMES)
def _always_streams(model: str) -> bool:
    return bool(_tokens(model.strip().lower()) & _ALWAYS_STREAM_TOKENS)
