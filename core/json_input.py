"""JSON from a caller, parsed the way every door needs it: any failure (bad syntax, nesting deeper
than MAX_JSON_DEPTH, an integer too long for Python, a lone surrogate that cannot be sent as UTF-8)
is a 400 that says what is wrong, never a 500 and never a failure inside the SDK later.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from core.errors import InvalidRequest

# Deeper JSON than this is refused: nothing a chat request carries nests this deep, and the SDK
# copies and serialises the request recursively (it fails from about 500 levels).
MAX_JSON_DEPTH = 64


# A JSON escape that may stand for a surrogate (\ud800 to \udfff): the only way UTF-8 text carries one.
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD]")
_SURROGATE_ESCAPE_TEXT = re.compile(r"\\u[dD]")


def _nothing_to_check(text: str | bytes) -> bool:
    """True when the text itself shows that `_check_nesting_and_text` can find nothing: fewer brackets
    than MAX_JSON_DEPTH (so no deeper nesting) and no escape that could be a surrogate. Counted on the
    raw text, brackets and escapes inside strings included, so it can only err towards checking.

    Why: the walk visits every value in Python and was the largest part of what a /v1 request cost
    beyond /invoke's raw text (scripts/benchmark/own_cost.py --profile); a chat request has a dozen
    brackets and, almost always, no surrogate escape, and two C-speed scans of the text say so."""
    if isinstance(text, (bytes, bytearray)):
        if b"\x00" in text:  # UTF-16 or UTF-32 (json.loads detects them): the scans below would miss
            return False
        brackets = text.count(b"{") + text.count(b"[")
        return brackets <= MAX_JSON_DEPTH and _SURROGATE_ESCAPE_BYTES.search(text) is None
    if not text.isascii():
        try:
            text.encode("utf-8")  # a str may hold a lone surrogate itself, not only as an escape
        except UnicodeEncodeError:
            return False
    brackets = text.count("{") + text.count("[")
    return brackets <= MAX_JSON_DEPTH and _SURROGATE_ESCAPE_TEXT.search(text) is None


def _check_nesting_and_text(value: Any) -> None:
    """Depth at most MAX_JSON_DEPTH, and every string sendable as UTF-8 (JSON's `\\ud800` is not)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise InvalidRequest(
                        "the JSON holds a lone surrogate escape (such as \\ud800), which is not text and "
                        "cannot be sent on as UTF-8; escape characters outside the BMP as a surrogate pair"
                    ) from None
            continue
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise InvalidRequest(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children if isinstance(child, (str, dict, list)))


def load_json(text: str | bytes, what: str) -> Any:
    """Parse `text` as JSON; any failure is an InvalidRequest that starts with `what`."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidRequest(
            f"{what} is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except RecursionError:
        raise InvalidRequest(f"{what} is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except UnicodeDecodeError:
        raise InvalidRequest(f"{what} is not valid UTF-8 text: send it as UTF-8; other charsets are not converted") from None
    except ValueError:  # the one other failure: an integer longer than Python converts
        raise InvalidRequest(
            f"{what} holds an integer longer than {sys.get_int_max_str_digits()} digits, more than any "
            "parameter takes"
        ) from None
    if not _nothing_to_check(text):
        _check_nesting_and_text(payload)
    return payload


# The parameters whose values are whole numbers.
INTEGER_PARAMETERS = frozenset({"top_k", "max_tokens", "max_completion_tokens", "seed", "n", "top_logprobs", "thinking_budget"})


def whole_numbers(parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters with a whole-number float (`2.0`) of an integer parameter as the integer it is:
    JSON (and JSON Schema's `integer`, so the OpenAPI document) does not tell 2.0 from 2, and
    DashScope takes integers."""
    if not any(type(parameters.get(name)) is float for name in INTEGER_PARAMETERS):
        return parameters
    return {
        name: int(value) if name in INTEGER_PARAMETERS and type(value) is float and value.is_integer() else value
        for name, value in parameters.items()
    }
