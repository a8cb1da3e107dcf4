"""Anthropic's content blocks -> DashScope's messages (the Messages API's `system`, `messages` and
`tools`). Decisions (docs/api.md, "Anthropic's Messages API"):

- `system`: a string, or text blocks (joined, or kept as parts when one carries `cache_control`); a
  `system` message among `messages` (Claude Code sends one) joins it at the start.
- `text` blocks: an empty one dropped (it says nothing; a message left with nothing is not sent);
  the others joined by newlines into a string, or kept as parts (with their `cache_control`, the
  DashScope cache marker, core/cache_control.py) when one carries a marker. A multimodal model always
  gets parts (`{"text"}`, `{"image"}`).
- `image` blocks (a base64 or url source) -> a data: or https: URL, for a model on the multimodal
  endpoint; a text model refuses them, naming the block.
- `tool_use` (assistant) -> `tool_calls` (input as JSON arguments); `tool_result` (user) -> a `tool`
  message before the user's other blocks, its text (blocks joined) prefixed "Error: " when `is_error`,
  its images moved to the user turn that follows; an empty result is "(no output)" (DashScope
  refuses an empty tool message).
- `thinking` / `redacted_thinking` sent back are dropped: DashScope takes no reasoning in the history
  (its thinking guide sends back `content` only), and their signatures mean nothing to it.
- Anything else (`document`, `search_result`, server tools' blocks) is a 400 naming the block.
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import InvalidRequest
from core.media import safe_media_url

DROPPED_BLOCKS = frozenset({"thinking", "redacted_thinking"})
EMPTY_TOOL_RESULT = "(no output)"


def _blocks(content: Any, path: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(isinstance(block, dict) for block in content):
        raise InvalidRequest(f"`{path}` must be a string or a list of content blocks", param=path)
    return content


def _text(block: dict[str, Any], path: str) -> str:
    if not isinstance(block.get("text"), str):
        raise InvalidRequest(f"`{path}.text` must be a string", param=f"{path}.text")
    return block["text"]


def _image_url(block: dict[str, Any], path: str, model: str, multimodal: bool) -> str:
    if not multimodal:
        raise InvalidRequest(
            f"`{path}`: model {model!r} is served on DashScope's text endpoint and takes no images; use a vision "
            "model (such as qwen3.6-plus), or, if DashScope serves it on its multimodal endpoint, add it to "
            "MULTIMODAL_MODELS",
            param=path,
        )
    source = block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if kind == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if not isinstance(media_type, str) or not isinstance(data, str) or not data:
            raise InvalidRequest(f"`{path}.source` needs `media_type` and base64 `data`", param=f"{path}.source")
        return safe_media_url(f"data:{media_type};base64,{data}", f"{path}.source.data")
    if kind == "url":
        return safe_media_url(source.get("url"), f"{path}.source.url")
    raise InvalidRequest(f"`{path}.source.type` must be \"base64\" or \"url\" (got {kind!r})", param=f"{path}.source")


class _Parts:
    """One message's text and image parts, in DashScope's shape for the model's endpoint."""

    def __init__(self, multimodal: bool) -> None:
        self.multimodal = multimodal
        self.parts: list[dict[str, Any]] = []

    def add_text(self, text: str, marker: Any) -> None:
        part: dict[str, Any] = {"text": text} if self.multimodal else {"type": "text", "text": text}
        if marker is not None:
            part["cache_control"] = marker
        self.parts.append(part)

    def add_image(self, url: str, marker: Any) -> None:
        self.parts.append({"image": url, **({"cache_control": marker} if marker is not None else {})})

    def content(self) -> Any:
        """Parts for the multimodal endpoint or when a marker must reach DashScope; else one string."""
        if self.multimodal or any("cache_control" in part for part in self.parts):
            return self.parts
        return "\n".join(part["text"] for part in self.parts)


def _system_parts(system: Any, parts: _Parts, path: str) -> None:
    if system is None or system == "" or system == []:
        return
    for index, block in enumerate(_blocks(system, path)):
        block_path = f"{path}[{index}]"
        if block.get("type") != "text":
            raise InvalidRequest(f"`{block_path}` must be a text block", param=block_path)
        text = _text(block, block_path)
        if text:
            parts.add_text(text, block.get("cache_control"))


def _tool_result(block: dict[str, Any], path: str, name: str | None, images: _Parts, model: str) -> dict[str, Any]:
    call_id = block.get("tool_use_id")
    if not isinstance(call_id, str) or not call_id:
        raise InvalidRequest(f"`{path}.tool_use_id` must name the tool_use it answers", param=f"{path}.tool_use_id")
    texts = []
    content = block.get("content")
    if content is not None:
        for index, inner in enumerate(_blocks(content, f"{path}.content")):
            inner_path = f"{path}.content[{index}]"
            if inner.get("type") == "text":
                texts.append(_text(inner, inner_path))
            elif inner.get("type") == "image":
                images.add_image(_image_url(inner, inner_path, model, images.multimodal), inner.get("cache_control"))
            else:
                raise InvalidRequest(f"`{inner_path}`: a tool_result holds text and image blocks "
                                     f"(got {inner.get('type')!r})", param=inner_path)
    text = "\n".join(texts) or EMPTY_TOOL_RESULT
    if block.get("is_error") is True:
        text = f"Error: {text}"
    message: dict[str, Any] = {"role": "tool", "tool_call_id": call_id, "content": text}
    if name:
        message["name"] = name  # DashScope wants the function's name on a tool message
    return message


def _tool_call(block: dict[str, Any], path: str) -> dict[str, Any]:
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
    if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
        raise InvalidRequest(f"`{path}` needs an `id` and a `name`", param=path)
    if not isinstance(arguments, dict):
        raise InvalidRequest(f"`{path}.input` must be an object", param=f"{path}.input")
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}


def dashscope_messages(system: Any, messages: Any, model: str, multimodal: bool) -> list[dict[str, Any]]:
    """The conversation as DashScope's messages, `system` first. A `system` message inside `messages`
    (Claude Code sends one after the first user turn) joins the system message at the start: DashScope
    takes instructions there. Raises InvalidRequest naming the block."""
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("`messages` must be a non-empty list of {role, content} objects", param="messages")
    instructions = _Parts(multimodal)
    _system_parts(system, instructions, "system")
    converted: list[dict[str, Any]] = []
    tool_names: dict[str, str] = {}
    for index, message in enumerate(messages):
        path = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role == "system":
            _system_parts(message.get("content"), instructions, f"{path}.content")
            continue
        if role not in ("user", "assistant"):
            raise InvalidRequest(f"`{path}.role` must be \"user\" or \"assistant\" (got {role!r})", param=f"{path}.role")
        parts, calls, results = _Parts(multimodal), [], []
        for position, block in enumerate(_blocks(message.get("content"), f"{path}.content")):
            kind, block_path = block.get("type"), f"{path}.content[{position}]"
            if kind == "text":
                text = _text(block, block_path)
                if text:  # an empty text says nothing (Anthropic's clients send some; DashScope refuses them)
                    parts.add_text(text, block.get("cache_control"))
            elif kind == "image":
                parts.add_image(_image_url(block, block_path, model, multimodal), block.get("cache_control"))
            elif kind == "tool_use" and role == "assistant":
                calls.append(_tool_call(block, block_path))
                tool_names[block["id"]] = block["name"]
            elif kind == "tool_result" and role == "user":
                results.append(_tool_result(block, block_path, tool_names.get(block.get("tool_use_id", "")), parts, model))
            elif kind in DROPPED_BLOCKS:
                continue
            else:
                raise InvalidRequest(f"`{block_path}`: a {role} message cannot carry a {kind!r} block here (text, "
                                     "image, tool_use (assistant), tool_result (user) and thinking are served)",
                                     param=block_path)
        converted.extend(results)
        if role == "assistant":
            if parts.parts or calls:
                reply: dict[str, Any] = {"role": "assistant", "content": parts.content() if parts.parts else ""}
                if calls:
                    reply["tool_calls"] = calls
                converted.append(reply)
        elif parts.parts:
            converted.append({"role": "user", "content": parts.content()})
    if instructions.parts:
        converted.insert(0, {"role": "system", "content": instructions.content()})
    return converted


def dashscope_tools(tools: Any) -> list[dict[str, Any]]:
    """Anthropic's client tools -> DashScope's function tools (a tool's `cache_control` is dropped:
    DashScope's markers go on content). A server tool (`web_search_…`, `bash_…`, ...) is a 400."""
    if not isinstance(tools, list):
        raise InvalidRequest("`tools` must be a list of tool objects", param="tools")
    converted = []
    for index, tool in enumerate(tools):
        path = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise InvalidRequest(f"`{path}` must be an object", param=path)
        if tool.get("type") not in (None, "custom"):
            raise InvalidRequest(f"`{path}`: Anthropic's server tool {tool.get('type')!r} is not served here; "
                                 "send client tools (name, description, input_schema)", param=f"{path}.type")
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise InvalidRequest(f"`{path}.name` must be a non-empty string", param=f"{path}.name")
        schema = tool.get("input_schema", {"type": "object"})
        if not isinstance(schema, dict):
            raise InvalidRequest(f"`{path}.input_schema` must be a JSON schema object", param=f"{path}.input_schema")
        function: dict[str, Any] = {"name": tool["name"], "parameters": schema}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        converted.append({"type": "function", "function": function})
    return converted


def dashscope_tool_choice(choice: Any) -> tuple[Any, bool | None]:
    """`tool_choice` -> (DashScope's tool_choice, parallel_tool_calls or None)."""
    kind = choice.get("type") if isinstance(choice, dict) else None
    mapped: Any
    if kind == "auto":
        mapped = "auto"
    elif kind == "any":
        mapped = "required"
    elif kind == "none":
        mapped = "none"
    elif kind == "tool":
        if not isinstance(choice.get("name"), str) or not choice["name"]:
            raise InvalidRequest("`tool_choice.name` must name a tool", param="tool_choice.name")
        mapped = {"type": "function", "function": {"name": choice["name"]}}
    else:
        raise InvalidRequest("`tool_choice.type` must be auto, any, tool or none", param="tool_choice")
    disable = choice.get("disable_parallel_tool_use")
    if disable is not None and not isinstance(disable, bool):
        raise InvalidRequest("`tool_choice.disable_parallel_tool_use` must be true or false",
                             param="tool_choice.disable_parallel_tool_use")
    return mapped, (None if disable is None else not disable)
