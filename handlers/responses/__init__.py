"""The Responses door: OpenAI's Responses API (`POST /v1/responses`), what the OpenAI Agents SDK's
default model and the Codex CLI speak, in front of DashScope's native API.

The request becomes the neutral GenerationCall (request.py, items.py, tools.py) and goes through the
one request path (web/serve.py: the owner's rules, model routing, retired models, callers and their
limits, usage, the log line); the answer is a Response object (answer.py) or the Responses event
sequence (events.py); errors are OpenAI's error body (core/openai_shapes.py), as on /v1.

`store` (on unless `false`, as OpenAI's) keeps the Response and its conversation for RESPONSES_TTL_S
in the conversation store (core/conversations.py: Redis with REDIS_URL, else this instance's memory),
under the caller's name: `previous_response_id` continues it, `GET` / `DELETE /v1/responses/{id}`
read and forget it, and a caller sees only its own.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from core.callers import OWNER
from core.config import Config
from core.conversations import ConversationStore, ConversationStoreUnavailable, build_conversation_store
from core.errors import InvalidRequest, RouteNotFound
from core.json_input import load_json
from core.openai_shapes import openai_error_body, openai_error_status
from core.types import Completion
from core.web_search import citation_pattern
from handlers.responses.answer import finish_of, output_items, response_object, responses_usage, status_of
from handlers.responses.events import ResponseEvents
from handlers.responses.parsing import ResponsesRequest, parse_responses_request
from web.callers import current_caller
from web.errors import use_error_body
from web.serve import serve
from web.services import EXTENSION_KEY, services
from web.tracking import note

log = logging.getLogger("qwenfc")
bp = Blueprint("responses", __name__, url_prefix="/v1/responses")
PREFIX = "/v1/responses"
STORE_KEY = "qwenfc.conversations"


def init_app(app: Flask) -> None:
    config: Config = app.extensions[EXTENSION_KEY].config
    app.extensions[STORE_KEY] = build_conversation_store(config.redis_url, config.responses_ttl_s, config.max_body_bytes)
    app.register_blueprint(bp)
    use_error_body(app, PREFIX, openai_error_body, openai_error_status)


def _store() -> ConversationStore:
    return current_app.extensions[STORE_KEY]


def _owner() -> str:
    caller = current_caller()
    return (caller or OWNER).name


def _not_found(response_id: str, param: str | None = None) -> RouteNotFound:
    return RouteNotFound(f"Response with id {response_id!r} not found.", param=param)


def _keep(store: ConversationStore, owner: str, parsed: ResponsesRequest, response: dict[str, Any]) -> None:
    """Keep a finished Response and its conversation (when `store` is on). A store that fails here
    does not take back the answer already made: the log line says it was not kept."""
    if not parsed.store:
        return
    record = {"response": response, "conversation": [*parsed.history, *response["output"]]}
    try:
        kept = store.put(owner, parsed.response_id, record)
    except ConversationStoreUnavailable:
        kept = False
    note(response_stored=kept)
    if not kept:
        log.warning("response %s not stored (store unreachable, or larger than MAX_BODY_BYTES)", parsed.response_id)


class ResponsesDoor:
    def parse(self, body: bytes, config: Config) -> ResponsesRequest:
        if not request.is_json or not body.strip():
            raise InvalidRequest("the body must be JSON: an OpenAI Responses request")
        body_json = load_json(body, "the body (an OpenAI Responses request)")
        previous = None
        if isinstance(body_json, dict) and body_json.get("previous_response_id") is not None:
            previous_id = body_json["previous_response_id"]
            if not isinstance(previous_id, str):
                raise InvalidRequest("`previous_response_id` must be a string", param="previous_response_id")
            previous = _store().get(_owner(), previous_id)
            if previous is None:
                raise _not_found(previous_id, "previous_response_id")
        parsed = parse_responses_request(body_json, config, services().rules, previous)
        if parsed.store and len(json.dumps(parsed.history, ensure_ascii=False).encode()) > _store().max_bytes:
            raise InvalidRequest(
                "this conversation is larger than MAX_BODY_BYTES, the most this function keeps of one: start a new "
                "one, or send `store: false` with the items you want the model to see",
                param="previous_response_id" if previous else "input",
            )
        return parsed

    def answer(self, completion: Completion, parsed: ResponsesRequest) -> dict[str, Any]:
        status, incomplete = status_of(finish_of(completion))
        output = output_items(completion, citation_pattern(parsed.call.parameters), parsed.namespaces)
        response = response_object(parsed.response_id, parsed.call.model, parsed.echo, status=status, output=output,
                                   usage=responses_usage(completion.usage), incomplete_details=incomplete)
        _keep(_store(), _owner(), parsed, response)
        return response

    def stream_format(self, parsed: ResponsesRequest) -> ResponseEvents:
        # The stream is sent after the view returns: the store and the caller are taken now.
        store, owner = _store(), _owner()
        return ResponseEvents(parsed, lambda response: _keep(store, owner, parsed, response))


RESPONSES = ResponsesDoor()


@bp.post("")
def create_response() -> Response:
    return serve(RESPONSES)


@bp.get("/<response_id>")
def retrieve_response(response_id: str) -> Response:
    note(door="responses")
    record = _store().get(_owner(), response_id)
    if record is None:
        raise _not_found(response_id)
    return jsonify(record["response"])


@bp.delete("/<response_id>")
def delete_response(response_id: str) -> Response:
    note(door="responses")
    if not _store().delete(_owner(), response_id):
        raise _not_found(response_id)
    return jsonify({"id": response_id, "object": "response.deleted", "deleted": True})
