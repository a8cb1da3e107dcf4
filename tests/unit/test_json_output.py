"""The function's JSON (web/json_output.py): orjson where it can, the standard library's encoder where
orjson refuses, the same JSON either way; and the SDK's dict subclasses copied to plain values."""

import json
import math

from core.upstream.answers import _plain
from web.json_output import compact_json, log_json

STDLIB = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def test_the_same_json_as_the_standard_library_for_what_a_stream_carries():
    value = {"output": {"choices": [{"finish_reason": "null", "message": {"role": "assistant", "content": "你好 \"x\"\n\u2028"}}],
                        "text": None}, "usage": {"input_tokens": 6009, "output_tokens": 18}, "request_id": "r-1", "ok": True}
    assert compact_json(value) == STDLIB.encode(value)


def test_what_orjson_refuses_is_written_by_the_standard_library():
    assert compact_json({1: "int key"}) == '{"1":"int key"}'
    assert compact_json({"big": 2**70}) == '{"big":%d}' % 2**70


def test_a_float_is_the_same_number():
    for number in (1e-05, 0.1, 1e16, 123.456):
        assert json.loads(compact_json({"x": number}))["x"] == number
    assert compact_json({"x": math.inf}) in ('{"x":null}', '{"x":Infinity}')


def test_a_log_line_writes_what_json_cannot_hold_as_its_str():
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert json.loads(log_json({"value": Odd(), "n": 2**70})) == {"value": "odd", "n": 2**70}
    assert json.loads(log_json({"value": Odd()})) == {"value": "odd"}


def test_sdk_dict_subclasses_become_plain_dicts_and_lists():
    from dashscope.api_entities.dashscope_response import GenerationOutput

    output = GenerationOutput(choices=[{"finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}])
    copied = _plain(output)
    assert copied == {"text": None, "finish_reason": None,
                      "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}]}
    assert type(copied) is dict and type(copied["choices"][0]) is dict and type(copied["choices"][0]["message"]) is dict
    assert _plain({1: [2**70]}) == {1: [2**70]}  # what orjson refuses is copied in Python
