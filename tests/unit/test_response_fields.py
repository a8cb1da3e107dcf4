"""A stream chunk as the SDK hands it over (its DictMixin objects), read into our Completion by key, and
anything else shaped like a response read by its attributes: the same plain Completion either way."""

from __future__ import annotations

import json
from types import SimpleNamespace

from dashscope.api_entities.dashscope_response import DashScopeAPIResponse, GenerationResponse

from core.upstream.answers import completion_of, response_field

CHUNK = json.loads('{"request_id": "r1", "output": {"choices": [{"message": {"content": "w0001", "role": "assistant"},'
                   ' "finish_reason": "null"}]}, "usage": {"input_tokens": 14, "output_tokens": 1, "total_tokens": 15}}')


def test_an_sdk_chunk_and_a_plain_response_give_the_same_plain_completion() -> None:
    sdk = GenerationResponse.from_api_response(DashScopeAPIResponse(
        request_id="r1", status_code=200, output=CHUNK["output"], usage=CHUNK["usage"]))
    plain = SimpleNamespace(request_id="r1", status_code=200, output=CHUNK["output"], usage=CHUNK["usage"])
    for response in (sdk, plain):
        completion = completion_of(response)
        # (The SDK's output also carries `text` and `finish_reason` keys, None, that the wire did not.)
        assert (completion.request_id, completion.usage) == ("r1", CHUNK["usage"])
        assert completion.output["choices"] == CHUNK["output"]["choices"]
        assert type(completion.output["choices"][0]["message"]) is dict  # the SDK's Message copied to a plain dict
        assert completion.finish_reason is None  # DashScope's "null" is not a finish
        assert response_field(response, "status_code") == 200
