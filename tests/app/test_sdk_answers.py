"""The SDK's answers as the function takes them: over a socket to the emulator, through the SDK's own
`call`, each response as the SDK's HTTP layer decoded it (plain dicts, never rebuilt as the SDK's
response objects), except where the SDK merges a cumulative stream with its own objects; the SDK's
own classes unchanged for anything else in the process (core/upstream/sdk_stand_ins.py)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from dashscope.aigc.generation import Generation as StockGeneration
from dashscope.api_entities.dashscope_response import GenerationResponse

from core.errors import UpstreamBadResponse
from core.types import GenerationCall
from core.upstream import sdk
from core.upstream.answers import completion_of
from core.upstream.sdk_stand_ins import with_answers_as_decoded
from tests.conftest import FAKE_KEY

ASK = [{"role": "user", "content": "count to five"}]
TEXT = GenerationCall("qwen-plus", messages=ASK, parameters={"result_format": "message", "incremental_output": True})
VISION = GenerationCall("qwen3-vl-plus", messages=[{"role": "user", "content": [{"text": "count to five"}]}],
                        parameters={"incremental_output": True}, endpoint="multimodal")


def sent(emulator: Any, call: GenerationCall, stream: bool) -> Any:
    return sdk.send(call, stream, api_key=FAKE_KEY, base_url=emulator.base_url, session=requests.Session(), timeout_s=10)


def plain_all_through(value: Any) -> bool:
    if isinstance(value, dict):
        return type(value) is dict and all(plain_all_through(item) for item in value.values())
    if isinstance(value, list):
        return all(plain_all_through(item) for item in value)
    return True


@pytest.mark.parametrize("call", [TEXT, VISION], ids=["text", "multimodal"])
def test_a_stream_is_handed_over_as_the_sdk_decoded_it_and_taken_as_it_is(emulator, call):
    responses = list(sent(emulator, call, stream=True))
    assert len(responses) > 2
    for response in responses:
        assert not isinstance(response, GenerationResponse)
        assert plain_all_through(response["output"]) and plain_all_through(response["usage"])
        completion = completion_of(response)
        assert completion.output is response["output"]  # no copy: nothing else holds it
    assert completion.finish_reason == "stop"
    assert "".join(completion_of(response).text for response in responses).strip()


def test_one_answer_is_handed_over_as_the_sdk_decoded_it(emulator):
    response = sent(emulator, TEXT, stream=False)
    assert plain_all_through(response["output"])
    completion = sdk.result(response)
    assert completion.finish_reason == "stop" and completion.text and completion.usage["output_tokens"] > 0


def test_a_cumulative_stream_is_merged_by_the_sdk_with_its_objects_and_copied(emulator):
    # incremental_output false on a stream: the SDK asks DashScope for incremental events and merges
    # them itself, with its own response objects, which the function copies to plain dicts.
    call = GenerationCall("qwen-plus", messages=ASK, parameters={"result_format": "message", "incremental_output": False})
    responses = list(sent(emulator, call, stream=True))
    assert all(isinstance(response, GenerationResponse) for response in responses)
    texts = []
    for response in responses:
        completion = completion_of(response)
        assert plain_all_through(completion.output) and plain_all_through(completion.usage)
        texts.append(completion.text)
    assert len(texts) > 2 and all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))


def test_the_sdks_own_classes_still_answer_with_its_objects(emulator):
    stream = StockGeneration.call(model="qwen-plus", messages=ASK, api_key=FAKE_KEY, base_address=emulator.base_url,
                                  stream=True, result_format="message", incremental_output=True)
    assert all(isinstance(response, GenerationResponse) for response in stream)
    assert sdk.Generation is not StockGeneration and issubclass(sdk.Generation, StockGeneration)


def test_an_sdk_whose_call_names_no_response_class_is_used_as_it_is():
    class Api:
        @classmethod
        def call(cls) -> str:
            return "as it is"

    assert with_answers_as_decoded(Api, "GenerationResponse") is Api


@pytest.mark.parametrize("output, usage, fault", [
    (None, {}, "its output is NoneType"),
    ([], {}, "its output is list"),
    ({"choices": "x"}, {}, "its output.choices is str"),
    ({"choices": ["x"]}, {}, "something other than an object"),
    ({"choices": [{"message": "x"}]}, {}, "something other than an object"),
    ({"text": "hi"}, [1], "its usage is list"),
    ({"text": "hi"}, {"prompt_tokens_details": 3}, "its usage.prompt_tokens_details is int"),
    ({"choices": [{"message": {"role": "assistant", "tool_calls": ["x"]}}]}, {}, "tool_calls is not a list of objects"),
])
def test_a_decoded_answer_not_of_dashscopes_shape_is_a_bad_response(caplog, output, usage, fault):
    with pytest.raises(UpstreamBadResponse):
        completion_of({"status_code": 200, "request_id": "r1", "output": output, "usage": usage})
    assert fault in caplog.text
