"""JSON as the function writes it: compact, UTF-8 as is, keys in the order the code builds them.

orjson writes it: every stream event, answer and log line goes through here, and on a long stream the
standard library's encoder was about a tenth of the function's own CPU per event
(docs/performance.md). orjson writes the same JSON as the standard library's encoder with `ensure_ascii=False` and compact
separators (a float may take a shorter form of the same number: 1e-5 for 1e-05); a value orjson
refuses (an int key, an integer past 64 bits) goes to the standard library's encoder instead, so
nothing that was written before fails now. Flask's own provider would also sort every object's keys.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Flask
from flask.json.provider import DefaultJSONProvider

# The fallback: Chinese text stays readable (in the FC console, in logs) instead of \\u escapes.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# For log lines: whatever a field holds, the line is still written.
_LENIENT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def compact_json(value: Any) -> str:
    """`value` as compact JSON (stream events, the OpenAI door's chunks)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError: what only the standard library writes
        return _COMPACT.encode(value)


def log_json(value: Any) -> str:
    """`value` as one JSON log line; values JSON cannot hold are written as their str()."""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
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
        # function always writes one way.
        try:
            return orjson.dumps(obj, default=self.default).decode()
        except TypeError:
            return self._encoder.encode(obj)
