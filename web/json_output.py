"""JSON as the function writes it: compact, UTF-8 as is, keys in the order the code builds them.

One encoder each, made once. `json.dumps` with any non-default argument builds a new JSONEncoder
on every call, and Flask's provider also sorts every object's keys; on the hot path (each answer,
each stream event, each log line) that was measurable work for nothing (see the README's
performance notes).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

# Chinese text stays readable (in the FC console, in logs) instead of \\u escapes.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# For log lines: whatever a field holds, the line is still written.
_LENIENT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def compact_json(value: Any) -> str:
    """`value` as compact JSON (stream events, the OpenAI door's chunks)."""
    return _COMPACT.encode(value)


def log_json(value: Any) -> str:
    """`value` as one JSON log line; values JSON cannot hold are written as their str()."""
    return _LENIENT.encode(value)


class CompactJsonProvider(DefaultJSONProvider):
    """Flask's JSON provider (`jsonify`) with the function's encoding: compact, unsorted, UTF-8."""

    ensure_ascii = False
    sort_keys = False

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=self.default)

    def dumps(self, obj: Any, **_kwargs: Any) -> str:
        # Flask's `response` (jsonify) asks for compact separators or, in debug, an indent: the
        # function always writes one way, with the encoder made once.
        return self._encoder.encode(obj)
