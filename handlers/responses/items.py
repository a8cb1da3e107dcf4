"""Responses API input items -> DashScope messages.

- `input` as a string is one user message; as a list, its items in order:
  - `message` (or an item with a `role` and no `type`): `input_text` / `output_text` / `refusal`
    parts are text, `input_image` an image (through core/openai_parts.py, so a text model refuses it
    as /v1 does, and every URL is checked: http(s) or data: only);
  - `function_call` -> an assistant message's `tool_calls` (consecutive calls, and the assistant's
    text before them, make one message, as DashScope expects);
  - `function_call_output` -> a `tool` message naming its function;
  - `reasoning` items sent back are accepted and not sent: DashScope takes no reasoning as input.
- Any other item type (file inputs, computer or shell calls, item references, ...) is a 400 naming it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.errors import InvalidRequest
from core.openai_parts import dashscope_content
from core.parameters import validate_messages

ROLES = {"user": "user", "system": "system", "developer": "system", "assistant": "assistant"}
TEXT_PARTS = ("input_text", "output_text")


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"`{path}` must be a string", param=path)
    return value


def _chat_part(part: Any, path: str) -> dict[str, Any]:
    """A Responses content part as the Chat Completions part core/openai_parts.py reads."""
    kind = part.get("type") if isinstance(part, dict) else None
    if kind in TEXT_PARTS:
        return {"type": "text", "text": _string(part.get("text"), f"{path}.text")}
    if kind == "refusal":
        return {"type": "text", "text": _string(part.get("refusal"), f"{path}.refusal")}
    if kind == "input_image":
        if part.get("image_url") is None:
            raise InvalidRequest(
                f"`{path}`: only images given by `image_url` (an https or data: URL) can reach DashScope; "
                "files uploaded to OpenAI (`file_id`) are not there",
                param=f"{path}.image_url",
            )
        return {"type": "image_url", "image_url": part["image_url"]}
    raise InvalidRequest(
        f"`{path}`: content part type {kind!r} is not supported; use input_text or input_image",
        param=f"{path}.type",
    )


def _content(content: Any, path: str, model: str, multimodal: bool) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest(f"`{path}` must be a string or a list of content parts", param=path)
    parts = [_chat_part(part, f"{path}[{index}]") for index, part in enumerate(content)]
    return dashscope_content(parts, path, model, multimodal)


def _output_text(output: Any, path: str) -> str:
    """A function call's output: a string, or text parts (joined)."""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(_chat_part(part, f"{path}[{n}]")["text"] for n, part in enumerate(output)
                       if isinstance(part, dict) and part.get("type") in TEXT_PARTS)
    raise InvalidRequest(f"`{path}` must be a string or a list of input_text parts", param=path)


class _Messages:
    """The messages so far, and the function names by call id (DashScope names a tool message's function)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}
        self.paths: list[str] = []  # the input item each message came from (for errors: `input[2]`)

    def function_call(self, item: dict[str, Any], path: str) -> None:
        call_id = _string(item.get("call_id"), f"{path}.call_id")
        name = _string(item.get("name"), f"{path}.name")
        arguments = item.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        self.names[call_id] = name
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        last = self.messages[-1] if self.messages else None
        if last is not None and last["role"] == "assistant" and last.get("_open"):
            last.setdefault("tool_calls", []).append(call)
        else:
            self.messages.append({"role": "assistant", "content": "", "tool_calls": [call], "_open": True})
            self.paths.append(path)

    def function_call_output(self, item: dict[str, Any], path: str) -> None:
        call_id = _string(item.get("call_id"), f"{path}.call_id")
        message = {"role": "tool", "content": _output_text(item.get("output"), f"{path}.output"), "tool_call_id": call_id}
        if call_id in self.names:
            message["name"] = self.names[call_id]
        self.messages.append(message)
        self.paths.append(path)

    def message(self, item: dict[str, Any], path: str, model: str, multimodal: bool) -> None:
        role = ROLES.get(item["role"]) if isinstance(item.get("role"), str) else None
        if role is None:
            raise InvalidRequest(f"`{path}.role` must be one of {', '.join(ROLES)}", param=f"{path}.role")
        content = _content(item.get("content"), f"{path}.content", model, multimodal)
        # An assistant's text stays open for the function calls that follow it (one DashScope message).
        self.messages.append({"role": role, "content": content, **({"_open": True} if role == "assistant" else {})})
        self.paths.append(path)

    def done(self) -> list[dict[str, Any]]:
        for message in self.messages:
            message.pop("_open", None)
        return self.messages


def input_messages(items: Any, model: str, multimodal: bool, first: int = 0) -> tuple[list[dict[str, Any]], list[str]]:
    """The Responses `input` items, after the `first` ones of the stored conversation
    (`previous_response_id`), as DashScope messages, with the item each came from."""
    if not isinstance(items, list):
        raise InvalidRequest("`input` must be a string or a list of input items", param="input")
    found = _Messages()
    for index, item in enumerate(items):
        where = f"input[{index - first}]" if index >= first else "previous_response_id"
        if not isinstance(item, dict):
            raise InvalidRequest(f"`{where}` must be an object", param=where)
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            found.message(item, where, model, multimodal)
        elif kind == "function_call":
            found.function_call(item, where)
        elif kind == "function_call_output":
            found.function_call_output(item, where)
        elif kind == "reasoning":
            continue  # DashScope takes no reasoning as input: accepted, not sent
        else:
            raise InvalidRequest(
                f"`{where}`: input item type {kind!r} is not supported here; use message, function_call, "
                "function_call_output or reasoning",
                param=f"{where}.type",
            )
    return found.done(), found.paths


_MESSAGE_PATH = re.compile(r"messages\[(\d+)\]")


def checked_messages(messages: list[dict[str, Any]], paths: list[str]) -> list[dict[str, Any]]:
    """core/parameters.py's check of the messages, its error naming what the caller sent (`input[1]`,
    `input`, `instructions`) rather than the message it became."""
    try:
        return validate_messages(messages)
    except InvalidRequest as error:
        def sent(match: re.Match[str]) -> str:
            index = int(match.group(1))
            return paths[index] if index < len(paths) else match.group(0)

        error.message = _MESSAGE_PATH.sub(sent, error.message)
        error.param = _MESSAGE_PATH.sub(sent, error.param) if error.param else error.param
        raise
