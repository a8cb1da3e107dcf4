"""/invoke's answer is what the DashScope SDK prints for the same answer: DashScope's output and usage
as sent, with the fields the SDK's response classes add (handlers/invoke/console_shape.py), checked
against those classes themselves on both endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dashscope.api_entities.dashscope_response import (
    DashScopeAPIResponse,
    GenerationResponse,
    MultiModalConversationResponse,
)

from core.types import Completion
from handlers.invoke.console_shape import console_body

MESSAGE = {"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}]}
TOOL_CALL = {"choices": [{"finish_reason": "tool_calls", "message": {
    "role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]}
THINKING_CHUNK = {"choices": [{"finish_reason": "null", "message": {"role": "assistant", "content": "", "reasoning_content": "hm"}}]}
NO_CONTENT = {"choices": [{"finish_reason": "null", "message": {"role": "assistant"}}]}
EMPTY_MESSAGE = {"choices": [{"finish_reason": "null", "message": {}}]}
NO_FINISH = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "a"}}]}
PROMPT_MODE = {"text": "hi", "finish_reason": "stop"}
SEARCH = {**MESSAGE, "search_info": {"search_results": [{"index": 1, "title": "t", "url": "https://example.com"}]}}
MULTIMODAL = {"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": [{"text": "a cat"}]}}]}
USAGE = {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
VISION_USAGE = {"input_tokens": 900, "output_tokens": 2, "image_tokens": 880}


def printed(response_class: Any, output: dict[str, Any], usage: dict[str, Any] | None) -> dict[str, Any]:
    sdk = response_class.from_api_response(DashScopeAPIResponse(status_code=200, request_id="r1", output=output, usage=usage))
    body = json.loads(str(sdk))  # what `print(response)` shows
    return {key: body[key] for key in ("status_code", "request_id", "code", "message", "output", "usage")}


@pytest.mark.parametrize("output", [MESSAGE, TOOL_CALL, THINKING_CHUNK, NO_CONTENT, EMPTY_MESSAGE, NO_FINISH,
                                    PROMPT_MODE, SEARCH])
@pytest.mark.parametrize("usage", [USAGE, None, {}])
def test_text_answers_print_as_the_sdk_prints_them(output, usage):
    body = console_body(Completion("r1", json.loads(json.dumps(output)), usage or {}))
    assert body == printed(GenerationResponse, output, usage)


@pytest.mark.parametrize("output", [MULTIMODAL, THINKING_CHUNK, NO_FINISH, EMPTY_MESSAGE,
                                    {**MULTIMODAL, "audio": {"id": "a1", "data": "", "expires_at": 1}}])
@pytest.mark.parametrize("usage", [VISION_USAGE, None])
def test_multimodal_answers_print_as_the_sdk_prints_them(output, usage):
    body = console_body(Completion("r1", json.loads(json.dumps(output)), usage or {}), multimodal=True)
    assert body == printed(MultiModalConversationResponse, output, usage)


def test_the_answer_given_is_not_changed():
    output = json.loads(json.dumps(NO_CONTENT))
    console_body(Completion("r1", output, {}))
    assert output == NO_CONTENT  # the stream's chunk is the log line's and the settlement's too
