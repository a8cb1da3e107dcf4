"""Inbound token comparison (web/access.py), without a request."""

from __future__ import annotations

from web.access import token_is_valid

TOKENS = ("first-invoke-token", "second-invoke-token")


def test_token_comparison():
    assert token_is_valid("second-invoke-token", TOKENS)
    assert not token_is_valid("second-invoke-toke", TOKENS)
    assert not token_is_valid("", TOKENS)
