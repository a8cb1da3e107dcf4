"""The answer /invoke gives: the shape the DashScope SDK prints and the FC console shows for the
official samples (`print(response)` of a GenerationResponse or MultiModalConversationResponse).

The function hands DashScope's output and usage on as DashScope sent them
(core/upstream/sdk_stand_ins.py). The SDK's response classes add a key, null or 0, for each of their
fields an answer lacks, so the console shape adds the same: `output.text`, `output.finish_reason`,
`output.choices` (and `output.audio` with its fields on the multimodal endpoint), each choice's
`finish_reason` and `message`, a message's `content`, and the usage's token counts
(dashscope/api_entities/dashscope_response.py, pinned in requirements.txt;
tests/unit/test_console_shape.py checks both endpoints against the SDK's own classes).
"""

from __future__ import annotations

from typing import Any

from core.types import Completion

_OUTPUT = {"text": None, "finish_reason": None, "choices": None}
_MULTIMODAL_OUTPUT = {**_OUTPUT, "audio": None}
_AUDIO = {"data": None, "url": None, "id": None, "expires_at": None}
_USAGE = {"input_tokens": 0, "output_tokens": 0}
_MULTIMODAL_USAGE = {**_USAGE, "characters": 0}


def console_body(completion: Completion, multimodal: bool = False) -> dict[str, Any]:
    """`{"status_code", "request_id", "code", "message", "output", "usage"}` as the SDK prints them."""
    return {
        "status_code": 200,
        "request_id": completion.request_id,
        "code": "",
        "message": "",
        "output": _output(completion.output, multimodal),
        "usage": {**(_MULTIMODAL_USAGE if multimodal else _USAGE), **completion.usage},
    }


def _output(output: dict[str, Any], multimodal: bool) -> dict[str, Any]:
    # Choices are a list of objects, each message an object or nothing, when present: an answer of any
    # other shape never reaches a door (core/upstream/answers.py).
    shaped = {**(_MULTIMODAL_OUTPUT if multimodal else _OUTPUT), **output}
    if multimodal and isinstance(shaped["audio"], dict):
        shaped["audio"] = {**_AUDIO, **shaped["audio"]}
    choices = shaped["choices"] or ()
    for choice in choices:
        message = choice.get("message")
        # What DashScope nearly always sends (every chunk of a stream) has nothing for the SDK to add:
        # no copy of the choices then.
        if not (message and "finish_reason" in choice and "content" in message):
            shaped["choices"] = [_choice(choice) for choice in choices]
            break
    return shaped


def _choice(choice: dict[str, Any]) -> dict[str, Any]:
    message = choice.get("message")
    # The SDK's Choice keeps a message only when it has something; its Message always has `content`.
    return {"finish_reason": None, **choice, "message": {"content": None, **message} if message else None}
