"""load_json skips its Python walk over the parsed value when the raw text shows the walk could find
nothing, and every input the walk refuses is still refused, with the same message, in every form a
door hands it over (bytes, str, UTF-16 bytes)."""

from __future__ import annotations

import json

import pytest

import core.json_input as json_input
from core.errors import InvalidRequest
from core.json_input import MAX_JSON_DEPTH, load_json

CHAT = {"model": "qwen-flash", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "你好"}]}


def forms(text: str) -> list[str | bytes]:
    return [text, text.encode("utf-8"), text.encode("utf-16"), bytearray(text.encode("utf-8"))]


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    walk = json_input._check_nesting_and_text

    def counted(value: object) -> None:
        seen.append(value)
        walk(value)

    monkeypatch.setattr(json_input, "_check_nesting_and_text", counted)
    return seen


def test_a_chat_request_is_not_walked(walks):
    for text in (json.dumps(CHAT), json.dumps(CHAT, ensure_ascii=False)):
        assert load_json(text.encode(), "the body") == CHAT
        assert load_json(text, "the body") == CHAT
    assert walks == []


@pytest.mark.parametrize("text", [
    '{"content": "\\ud800"}',  # a lone high surrogate
    '{"content": "ok \\uDFFF"}',  # a lone low one, upper-case hex
    '{"a": "x", "content": ["\\udbff"]}',
])
def test_a_lone_surrogate_escape_is_refused_in_every_form(text):
    for form in forms(text):
        with pytest.raises(InvalidRequest, match="lone surrogate"):
            load_json(form, "the body")


def test_a_str_holding_a_lone_surrogate_itself_is_refused():
    with pytest.raises(InvalidRequest, match="lone surrogate"):
        load_json('{"content": "\ud800"}', "the body")


def test_a_surrogate_pair_escape_is_text():
    for form in forms('{"content": "\\ud83d\\ude00"}'):
        assert load_json(form, "the body") == {"content": "😀"}


def test_nesting_past_the_limit_is_refused_in_every_form():
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    for form in forms(deep):
        with pytest.raises(InvalidRequest, match=f"nested more than {MAX_JSON_DEPTH} levels"):
            load_json(form, "the body")
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    for form in forms(at_limit):
        load_json(form, "the body")


def test_brackets_and_escapes_inside_strings_only_cost_the_walk(walks):
    text = json.dumps({"content": "[" * 100 + " \\ud83d is not an escape here"})
    assert load_json(text.encode(), "the body") == json.loads(text)
    assert len(walks) == 1
