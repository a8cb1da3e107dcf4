"""JSON from a caller, parsed the way every door needs it: any failure (bad syntax, nesting deeper
than MAX_JSON_DEPTH, an integer too long for Python, a lone surrogate that cannot be sent as UTF-8)
is a 400 that says what is wrong, never a 500 and never a failure inside the SDK later.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from core.errors import InvalidRequest

# Deeper JSON than this is refused: nothing a chat request carries nests this deep, and the SDK
# copies and serialises the request recursively (it fails from about 500 levels).
MAX_JSON_DEPTH = 64


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
    _check_nesting_and_text(payload)
    return payload
