"""What an admitted call may spend, reserved against its caller's tpm and budget (and MODEL_LIMITS'
tpm) from its admission until it settles (core/callers/).

A limit on tokens can only be settled after the fact, since a call's tokens are known at its end. So
that concurrent calls cannot all pass a limit that only one of them fits in, each call reserves, at
admission, what it can spend: its input (counted with the local Qwen tokenizer, core/upstream/tokens.py)
plus its output, `max_tokens` (after MAX_TOKENS_CAP) for each of its `n` choices, and its
`thinking_budget`. A reserved call is held to what it reserved (`held_to_reservation`): one that
names no `max_tokens` is sent with DEFAULT_RESERVED_OUTPUT_TOKENS (set `max_tokens`, or
MAX_TOKENS_CAP, to reserve less), and one that thinks with no `thinking_budget` is sent with
DEFAULT_RESERVED_THINKING_TOKENS (DashScope's `max_tokens` bounds the answer, not the thinking).
Without them a call could spend far more than it reserved, and concurrent calls overrun the limit
by many calls. The reservation is released when the call settles with its real usage; usage reports never show it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.upstream.tokens import count_input_tokens
from core.types import Call, EmbeddingCall, GenerationCall
from core.upstream import sdk

# What a call with no max_tokens reserves for its output, per choice. A reservation only bounds how
# many calls run at once near a limit: the tokens spent are always the real ones.
DEFAULT_RESERVED_OUTPUT_TOKENS = 4096
# What a thinking call with no thinking_budget reserves for its thinking, and is held to.
DEFAULT_RESERVED_THINKING_TOKENS = 4096


def _whole(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def held_to_reservation(call: GenerationCall, thinks: bool) -> GenerationCall:
    """`call` as sent when its tokens are reserved: its output and thinking bounded by what it reserves."""
    given = call.parameters
    bounds = {}
    if _whole(given.get("max_tokens"), 0) == 0:
        bounds["max_tokens"] = DEFAULT_RESERVED_OUTPUT_TOKENS
    if thinks and _whole(given.get("thinking_budget"), 0) == 0:
        bounds["thinking_budget"] = DEFAULT_RESERVED_THINKING_TOKENS
    return dataclasses.replace(call, parameters={**given, **bounds}) if bounds else call


def tokens_to_reserve(call: Call, counted_input: int | None = None) -> int:
    """The tokens `call` can spend, by the rule above. `counted_input`: the input's count when the
    owner's rules counted it already (MAX_INPUT_TOKENS), so it is not counted twice."""
    if isinstance(call, EmbeddingCall):
        return sum(len(sdk.token_ids(text)) for text in call.texts if text)
    if not isinstance(call, GenerationCall):
        return 0  # the tokenizer: answered here, spends nothing
    given = call.parameters
    choices = _whole(given.get("n"), 1)
    output = _whole(given.get("max_tokens"), DEFAULT_RESERVED_OUTPUT_TOKENS) + _whole(given.get("thinking_budget"), 0)
    counted = counted_input if counted_input is not None else count_input_tokens(call)
    return counted + choices * output
