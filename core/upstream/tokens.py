"""Counting a call's input tokens, with the SDK's bundled Qwen tokenizer (core/upstream/sdk.py):
the native door's /api/v1/tokenizer, and MAX_INPUT_TOKENS, the owner's rule that refuses an
over-long input before anything is sent (core/policy.py).

The tokenizer's answer counts what DashScope's own tokenizer API counts: the text of every message
(string content, and the `text` of content parts) or the prompt, each encoded on its own
(`"你好？"` is 2 tokens), no chat template, no images.

MAX_INPUT_TOKENS counts everything the call sends upstream that the model reads (`sent_texts`), so
no field can carry text past the limit: every message of every role and every field of it
(content text, `reasoning_content`, `tool_calls` with their names and arguments, `name`,
`tool_call_id`, any other field), the prompt, and every parameter that is not a number, a boolean
or one of the switches below (`tools` with their descriptions and schemas, `response_format` and
its json_schema, `tool_choice` naming a function, `stop`, `translation_options`, a parameter this
function does not know): every string, and the keys of every object inside a parameter (a schema's
property names are text the model reads). Not counted: numbers, booleans, a message's `role`, a
content part's `type`, and media (the `image`/`audio`/`video` URLs or data: URLs of content parts,
which DashScope counts as image, audio or video tokens), nor the switches `result_format`,
`reasoning_effort` and a `tool_choice` of "auto"/"none"/"required". Each string is encoded on its
own; the chat template's own tokens are not counted. The vocabulary is the first Qwen's, so for
today's models the count is an estimate, close but not exact.
"""

from __future__ import annotations

from typing import Any, Iterator

from core.errors import InvalidRequest
from core.types import Completion, GenerationCall, TokenizationCall
from core.upstream import sdk


def _content_texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return []


def input_texts(messages: list[dict[str, Any]] | None, prompt: str | None) -> list[str]:
    """The texts of a call's input, in order."""
    if messages is None:
        return [prompt] if prompt else []
    return [text for message in messages if isinstance(message, dict) for text in _content_texts(message.get("content"))]


# Content-part keys whose values are media (DashScope counts them as image/audio/video tokens), or
# the part's kind: not text the model reads.
_NOT_TEXT_PART_KEYS = frozenset({"type", "image", "audio", "video", "image_url", "video_url", "input_audio"})
# Parameters whose string values are switches from a closed set (checked by core/parameters.py),
# never text for the model.
_SWITCH_PARAMETERS = frozenset({"result_format", "reasoning_effort"})


def _strings(value: Any, keys: bool) -> Iterator[str]:
    """Every string inside a JSON value (and, with `keys`, every object key), in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys and isinstance(key, str):
                yield key
            yield from _strings(item, keys)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, keys)


def _message_texts(message: Any) -> Iterator[str]:
    if not isinstance(message, dict):
        return
    for field_name, value in message.items():
        if field_name == "role":
            continue
        if field_name == "content" and isinstance(value, list):
            for part in value:
                if isinstance(part, dict):
                    for key, item in part.items():
                        if key not in _NOT_TEXT_PART_KEYS:
                            yield from _strings(item, keys=False)
                else:
                    yield from _strings(part, keys=False)
        else:
            yield from _strings(value, keys=False)


def sent_texts(call: GenerationCall | TokenizationCall) -> Iterator[str]:
    """Every text the call sends upstream for the model to read (what MAX_INPUT_TOKENS counts: the
    module's docstring says what is in and what is not)."""
    if call.prompt:
        yield call.prompt
    for message in call.messages or ():
        yield from _message_texts(message)
    for name, value in call.parameters.items():
        if name in _SWITCH_PARAMETERS or (name == "tool_choice" and isinstance(value, str)):
            continue
        yield from _strings(value, keys=True)


def count_input_tokens(call: GenerationCall | TokenizationCall) -> int:
    """The tokens of everything the call sends upstream for the model to read (`sent_texts`); for a
    tokenizer call, which sends nothing, the texts it tokenizes (its answer's count)."""
    texts = input_texts(call.messages, call.prompt) if isinstance(call, TokenizationCall) else sent_texts(call)
    return sum(len(sdk.token_ids(text)) for text in texts if text)


def tokenize(call: TokenizationCall) -> Completion:
    """DashScope's tokenizer answer (`output.token_ids`, `output.tokens`, `usage.input_tokens`),
    computed here. The SDK's tokenizer knows only Qwen models; so does this."""
    if not call.model.lower().startswith("qwen"):
        raise InvalidRequest(
            f"the tokenizer knows Qwen models only (a name starting with `qwen`), not `{call.model}`", param="model"
        )
    ids = [token for text in input_texts(call.messages, call.prompt) if text for token in sdk.token_ids(text)]
    return Completion(
        request_id="",
        output={"token_ids": ids, "tokens": [sdk.token_text(token) for token in ids]},
        usage={"input_tokens": len(ids)},
    )


def warm_tokenizer() -> None:
    """Load the tokenizer now (FC's /initialize, when MAX_INPUT_TOKENS is set), not on a caller's time."""
    sdk.token_ids("")


def input_token_limit(limits: tuple[tuple[str, int], ...], model: str) -> int | None:
    """MAX_INPUT_TOKENS for `model`: its own entry, else the one for every model (`*`), else none."""
    table = dict(limits)
    return table.get(model, table.get("*"))


def check_input_tokens(call: GenerationCall, limits: tuple[tuple[str, int], ...]) -> dict[str, Any]:
    """Refuse (400, with the count) a call whose input is longer than MAX_INPUT_TOKENS allows; the
    notes for the log line otherwise. Nothing is counted when no limit applies."""
    limit = input_token_limit(limits, call.model) if limits else None
    if limit is None:
        return {}
    counted = count_input_tokens(call)
    if counted > limit:
        raise InvalidRequest(
            f"the input is {counted} tokens long (the Qwen tokenizer's count); this function accepts at most "
            f"{limit} for `{call.model}` (MAX_INPUT_TOKENS, counting every text sent: the messages or prompt, "
            "tools, response_format and other text parameters): shorten the input",
            param="messages" if call.messages is not None else "prompt",
        )
    return {"input_tokens_counted": counted}
