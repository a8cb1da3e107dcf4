"""DashScope's context cache, as Model Studio's "Context Cache" page describes it
(help.aliyun.com/zh/model-studio/context-cache; English: alibabacloud.com/help/en/model-studio/context-cache,
"Last Updated: Oct 11, 2026"; docs/models.md keeps the facts with their dates).

- Explicit cache: a content part marked ``"cache_control": {"type": "ephemeral"}`` makes the
  messages from the start up to and including that part a cache block, if it holds at least 1,024
  tokens. It lives 5 minutes; a hit renews it. From each marker DashScope looks back at most 20
  content blocks for a cached prefix and takes the longest one that matches. A request carries at
  most 4 markers (the function refuses a fifth before it gets here).
- Implicit cache: always on, for input of at least 256 tokens: a prefix seen before is a hit. Its
  lifetime is "not guaranteed"; the emulator keeps it 5 minutes too.
- A request uses one of the two, never both: one that carries a marker is explicit.
- Usage (``prompt_tokens_details``, native and compatible mode alike): ``cached_tokens``; an
  explicit request adds ``cache_creation_input_tokens``, ``cache_creation:
  {ephemeral_5m_input_tokens}`` and ``cache_type: "ephemeral"``. The tokens created are those of the
  longest new block beyond what was hit (DashScope's example: 1,305 hit, 213 created).

What the emulator simplifies: a prefix is matched in whole content blocks (a string content is one
block, each part of a list one), by role and text (or media URL), the part's ``type`` and marker
aside, so a marked part and the same text sent as a string match, as in the page's example. Tokens
are the emulator's own count (scripts/emulator/directives.py). Caches are per API key and model.
Time is `clock()` plus `advance(seconds)`, so a test can let a cache expire without sleeping.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any, Callable

from .answers import MEDIA_TOKENS
from .directives import count_tokens

EXPLICIT_MIN_TOKENS = 1024
IMPLICIT_MIN_TOKENS = 256
LIFETIME_S = 300.0  # explicit: 5 minutes, reset on a hit
LOOKBACK_BLOCKS = 20


def _blocks(messages: list[Any]) -> list[tuple[Any, int, bool]]:
    """(what the block is, its tokens, whether it carries a marker) for every content block, in order."""
    blocks = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        parts = content if isinstance(content, list) else [{"text": content if isinstance(content, str) else ""}]
        for part in parts:
            if not isinstance(part, dict):
                continue
            media = next((kind for kind in MEDIA_TOKENS if kind in part), None)
            if media is not None:
                what, tokens = (role, media, json.dumps(part[media], sort_keys=True)), MEDIA_TOKENS[media]
            else:
                text = str(part.get("text", ""))
                what, tokens = (role, "text", text), count_tokens(text)
            blocks.append((what, tokens, "cache_control" in part))
    return blocks


class ContextCache:
    """The emulator's explicit and implicit caches, shared by every request to one emulator."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._offset = 0.0
        self._lock = threading.Lock()
        self._explicit: dict[str, float] = {}  # prefix key -> expiry
        self._implicit: dict[str, float] = {}

    def advance(self, seconds: float) -> None:
        """Move the cache's clock on (a test's way to let five minutes pass)."""
        with self._lock:
            self._offset += seconds

    def clear(self) -> None:
        with self._lock:
            self._explicit.clear()
            self._implicit.clear()

    def usage(self, scope: str, messages: list[Any], input_tokens: int) -> dict[str, Any] | None:
        """`prompt_tokens_details` for this request (None: nothing cached, nothing created), and the
        caches it creates or renews. `scope`: whose caches (the API key and the model)."""
        blocks = _blocks(messages)
        keys, totals, digest, total = [], [], hashlib.sha256(scope.encode()), 0
        for what, tokens, _marked in blocks:
            digest.update(json.dumps(what, ensure_ascii=False).encode())
            keys.append(digest.hexdigest())
            total += tokens
            totals.append(total)
        markers = [index for index, (_what, _tokens, marked) in enumerate(blocks) if marked]
        with self._lock:
            now = self._clock() + self._offset
            for table in (self._explicit, self._implicit):
                for key in [key for key, expiry in table.items() if expiry <= now]:
                    del table[key]
            if markers:
                return self._explicit_use(keys, totals, markers, input_tokens, now)
            return self._implicit_use(keys, totals, input_tokens, now)

    def _explicit_use(self, keys: list[str], totals: list[int], markers: list[int], input_tokens: int,
                      now: float) -> dict[str, Any]:
        hit = None
        for marker in markers:
            for end in range(marker, max(-1, marker - LOOKBACK_BLOCKS), -1):
                if keys[end] in self._explicit:  # the longest cached prefix this marker reaches
                    hit = end if hit is None or totals[end] > totals[hit] else hit
                    break
        cached = totals[hit] if hit is not None else 0
        if hit is not None:
            self._explicit[keys[hit]] = now + LIFETIME_S
        created = 0
        for marker in markers:
            if totals[marker] >= EXPLICIT_MIN_TOKENS and keys[marker] not in self._explicit:
                self._explicit[keys[marker]] = now + LIFETIME_S
                created = max(created, totals[marker] - cached)
        cached = min(cached, input_tokens)
        created = min(created, input_tokens - cached)
        return {
            "cached_tokens": cached,
            "cache_creation_input_tokens": created,
            "cache_creation": {"ephemeral_5m_input_tokens": created},
            "cache_type": "ephemeral",
        }

    def _implicit_use(self, keys: list[str], totals: list[int], input_tokens: int, now: float) -> dict[str, Any] | None:
        hit = next((end for end in range(len(keys) - 1, -1, -1) if keys[end] in self._implicit), None)
        if totals and totals[-1] >= IMPLICIT_MIN_TOKENS:
            for end, key in enumerate(keys):
                if totals[end] >= IMPLICIT_MIN_TOKENS:
                    self._implicit[key] = now + LIFETIME_S
        if hit is None or totals[hit] < IMPLICIT_MIN_TOKENS:
            return None
        return {"cached_tokens": min(totals[hit], input_tokens)}
