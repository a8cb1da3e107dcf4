"""The Anthropic door: Anthropic's Messages API, so the anthropic SDKs and Claude Code talk to Qwen
by changing only their base URL.

``POST /v1/messages`` (with or without ``?beta=true``; `anthropic-version` and `anthropic-beta`
headers accepted, and not needed) and ``POST /v1/messages/count_tokens``. The token is `x-api-key` or
`Authorization: Bearer` (web/access.py). The door parses (parse.py, content.py, tokens.py) and shapes
(answer.py, events.py, errors.py); web/serve.py does the rest, as for every door.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request

from core.config import Config
from core.errors import InvalidRequest
from core.json_input import load_json
from core.types import Completion, TokenizationCall
from handlers.anthropic.answer import message
from handlers.anthropic.errors import anthropic_error_body, anthropic_error_status
from handlers.anthropic.events import AnthropicEvents
from handlers.anthropic.parse import MessagesRequest, parse_messages_request
from handlers.anthropic.tokens import CountRequest, counted_texts
from web.errors import use_error_body
from web.serve import serve
from web.services import services

bp = Blueprint("anthropic", __name__, url_prefix="/v1/messages")
PREFIX = "/v1/messages"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    use_error_body(app, PREFIX, anthropic_error_body, anthropic_error_status)


def _body(body: bytes) -> Any:
    if not request.is_json or not body.strip():
        raise InvalidRequest("the body must be JSON (Content-Type: application/json): an Anthropic Messages API request")
    return load_json(body, "the body (an Anthropic Messages API request)")


class MessagesDoor:
    def parse(self, body: bytes, config: Config) -> MessagesRequest:
        return parse_messages_request(_body(body), config, services().rules)

    def answer(self, completion: Completion, parsed: MessagesRequest) -> dict[str, Any]:
        return message(completion, parsed.model_asked)

    def stream_format(self, parsed: MessagesRequest) -> AnthropicEvents:
        return AnthropicEvents(parsed.model_asked, anthropic_error_body)


class CountTokensDoor:
    """count_tokens: the local Qwen tokenizer (core/upstream/tokens.py), through the request path as a
    tokenizer call: the owner's model rules apply, nothing is sent upstream, no caller usage."""

    def parse(self, body: bytes, config: Config) -> CountRequest:
        parsed = parse_messages_request(_body(body), config, services().rules, counting=True)
        texts = counted_texts(parsed.call)
        call = TokenizationCall(model=parsed.call.model, messages=[{"role": "user", "content": t} for t in texts])
        return CountRequest(call=call, model_asked=parsed.model_asked)

    def answer(self, completion: Completion, parsed: CountRequest) -> dict[str, Any]:
        return {"input_tokens": int(completion.usage.get("input_tokens") or 0)}

    def stream_format(self, parsed: CountRequest) -> AnthropicEvents:
        raise InvalidRequest("count_tokens is never streamed")  # parse never asks for a stream


MESSAGES = MessagesDoor()
COUNT_TOKENS = CountTokensDoor()


@bp.post("")
def messages() -> Response:
    return serve(MESSAGES)


@bp.post("/count_tokens")
def count_tokens() -> Response:
    return serve(COUNT_TOKENS)
