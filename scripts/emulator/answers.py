"""What the emulated model says to one request: its reasoning, its reply or tool call, its token
counts, and the pieces a stream sends them in. The wire shapes are in native.py and compatible.py."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import models
from .directives import count_tokens, pieces, strip, text_of

# What a media part costs in input tokens: fixed, so that tests can assert on usage.
MEDIA_TOKENS = {"image": 256, "video": 1024, "audio": 128}


@dataclass
class Step:
    """One stream event's worth of new output: reasoning, reply text, or tool-call fragments."""

    reasoning: str = ""
    text: str = ""
    tool_calls: list[dict[str, Any]] | None = None


@dataclass
class Answer:
    model: str
    text: str
    finish_reason: str
    input_tokens: int
    tool_calls: list[dict[str, Any]] | None = None
    reasoning: str | None = None  # None: the model did not think
    media: dict[str, int] = field(default_factory=dict)  # {"image": 1, ...}: parts it was shown
    cache: dict[str, Any] | None = None  # usage's prompt_tokens_details (scripts/emulator/cache.py)

    @property
    def reasoning_tokens(self) -> int:
        return count_tokens(self.reasoning or "")

    @property
    def output_tokens(self) -> int:
        return count_tokens(self.text) + (1 if self.tool_calls else 0) + self.reasoning_tokens

    def media_tokens(self) -> dict[str, int]:
        return {f"{kind}_tokens": MEDIA_TOKENS[kind] * count for kind, count in self.media.items() if count}

    def steps(self, fragments: bool = False) -> list[Step]:
        """The stream's events, three pieces an event like the real service's uneven chunks: the
        reasoning first, then the reply; a tool call whole in the last event, or (``fragments``)
        as DashScope streams it incrementally: id and name first, then the arguments in pieces."""
        steps = [Step(reasoning=part) for part in _grouped(self.reasoning or "")]
        steps += [Step(text=part) for part in _grouped(self.text)]
        if self.tool_calls and fragments:
            for call in self.tool_calls:
                head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
                steps.append(Step(tool_calls=[head]))
                for part in _grouped(call["function"]["arguments"]):
                    tail = {"index": call["index"], "id": "", "type": "function", "function": {"arguments": part}}
                    steps.append(Step(tool_calls=[tail]))
        elif self.tool_calls:
            if steps and not steps[-1].text and not steps[-1].reasoning:
                steps[-1].tool_calls = self.tool_calls
            else:
                steps.append(Step(tool_calls=self.tool_calls))
        return steps or [Step()]


def _grouped(text: str) -> list[str]:
    split = pieces(text)
    return ["".join(split[i : i + 3]) for i in range(0, len(split), 3)]


def compose(
    model: str,
    messages: list[dict[str, Any]] | None,
    prompt: str | None,
    parameters: dict[str, Any],
    directives: dict[str, str],
) -> Answer:
    if messages:
        input_text = "".join(text_of(message.get("content")) for message in messages)
        last = messages[-1]
    else:
        input_text = str(prompt)
        last = {"role": "user", "content": prompt}
    media = count_media(messages or [])
    input_tokens = count_tokens(input_text) + sum(MEDIA_TOKENS[kind] * n for kind, n in media.items())
    said = strip(text_of(last.get("content")))
    reasoning = _reasoning(said, parameters) if models.thinks(model, parameters) else None

    tools = parameters.get("tools") or []
    if tools and parameters.get("tool_choice") != "none" and last.get("role") == "user":
        call = tool_call(tools, parameters, said)
        return Answer(model, "", "tool_calls", input_tokens, [call], reasoning, media)

    if "reply" in directives:
        text = directives["reply"]
    elif last.get("role") == "tool":
        text = f"The tool answered: {said}"
    else:
        text = f"This is the DashScope emulator ({model}). You said: {said}"
        seen = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in media.items() if n)
        text += f" (shown: {seen})" if seen else ""
    response_format = parameters.get("response_format") or {}
    if response_format.get("type") == "json_object":
        text = json.dumps({"model": model, "answer": text}, ensure_ascii=False)
    elif response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        text = json.dumps(value_for(schema, text), ensure_ascii=False)

    finish_reason = "stop"
    stops = parameters.get("stop")
    for stop in [stops] if isinstance(stops, str) else (stops or []):
        if isinstance(stop, str) and stop in text:
            text = text[: text.index(stop)]
    max_tokens = parameters.get("max_tokens")
    if isinstance(max_tokens, int) and count_tokens(text) > max_tokens:
        text, finish_reason = _first_tokens(text, max_tokens), "length"
    return Answer(model, text, finish_reason, input_tokens, None, reasoning, media)


def _first_tokens(text: str, limit: int) -> str:
    kept, counted = "", 0
    for piece in pieces(text):
        counted += 1 if piece.strip() else 0
        if counted > limit:
            break
        kept += piece
    return kept


def _reasoning(said: str, parameters: dict[str, Any]) -> str:
    reasoning = f"The user said: {said} I should answer plainly and name the emulator."
    budget = parameters.get("thinking_budget")
    if isinstance(budget, int) and budget > 0:
        reasoning = _first_tokens(reasoning, budget)
    return reasoning


def count_media(messages: list[dict[str, Any]]) -> dict[str, int]:
    """How many image, video and audio parts the messages carry (a video given as a list of frames
    counts once)."""
    counts = {"image": 0, "video": 0, "audio": 0}
    for message in messages:
        content = message.get("content")
        for part in content if isinstance(content, list) else []:
            for kind in counts:
                if isinstance(part, dict) and kind in part:
                    counts[kind] += 1
    return counts


def tool_call(tools: list[dict[str, Any]], parameters: dict[str, Any], said: str) -> dict[str, Any]:
    choice = parameters.get("tool_choice")
    wanted = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    spec = next(
        (tool["function"] for tool in tools if tool.get("function", {}).get("name") == wanted),
        tools[0].get("function", {}),
    )
    required = (spec.get("parameters") or {}).get("required") or []
    properties = (spec.get("parameters") or {}).get("properties") or {}
    # Each required argument: what the user said where a string fits, else a value of its type.
    arguments = {name: value_for(properties.get(name) or {}, said) for name in required}
    return {
        "index": 0,
        "id": f"call_{uuid.uuid4().hex[:22]}",
        "type": "function",
        "function": {"name": spec.get("name", ""), "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


def value_for(schema: dict[str, Any], text: str, root: dict[str, Any] | None = None) -> Any:
    """A value that satisfies a (simple) JSON schema, with the reply text in its strings. Local
    ``$ref``s (``#/$defs/...``, what pydantic and the openai client's ``parse`` send) are followed."""
    root = schema if root is None else root
    if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for name in schema["$ref"][2:].split("/"):
            target = target.get(name, {}) if isinstance(target, dict) else {}
        return value_for(target, text, root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: value_for(sub, text, root) for name, sub in properties.items()}
    if kind == "array":
        return [value_for(schema.get("items") or {}, text, root)] * max(1, int(schema.get("minItems", 1)))
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    for combined in ("anyOf", "oneOf", "allOf"):
        if schema.get(combined):
            return value_for(schema[combined][0], text, root)
    return text
