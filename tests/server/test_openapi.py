"""/openapi.json describes the function truly: schemathesis generates requests for every operation
from the document and checks each response against it, on the live server with the emulator behind.
Every check runs, positive_data_acceptance (ST202) included: a body the document calls valid is one
the function takes."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, reject, settings

from core.dashscope_wire import FLAT_FIELDS
from handlers.system.openapi.chat import RULES_IN_PROSE
from handlers.system.openapi.document import openapi_document

pytestmark = pytest.mark.server

# The document the app serves, loaded at collection; test_the_server_serves_this_document checks
# that the live server hands out exactly this one.
DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# A DashScope-native body with every rule across its parameters (the native door's NativeBody).
NATIVE_BODY = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/NativeBody", "components": DOCUMENT["components"]})
# The /v1 request's rules that its description states in words.
CHAT_PROSE = jsonschema.Draft202012Validator({"allOf": RULES_IN_PROSE})


# Content parts only a multimodal model takes: OpenAI's (/v1, /v1/responses) and Anthropic's.
MEDIA_PARTS = ("image_url", "input_audio", "video_url", "input_image", "image")


def served_model(path: str, body: dict[str, Any]) -> str:
    """A model DashScope serves that takes this body's content. Which names DashScope serves is
    DashScope's to say, not the document's: a valid body names one."""
    if "embedding" in path:
        return "text-embedding-v4"
    messages = body["input"].get("messages") if isinstance(body.get("input"), dict) else body.get("messages")
    if path == "/v1/responses":  # its input items
        messages = body.get("input")
    parts = [part for message in (messages if isinstance(messages, list) else []) if isinstance(message, dict)
             for part in (message.get("content") if isinstance(message.get("content"), list) else [])]
    media = any(isinstance(part, dict) and part.get("type") in MEDIA_PARTS for part in parts)
    return "qwen3.6-plus" if media or "multimodal" in path else "qwen-plus"


def as_native(body: dict[str, Any]) -> dict[str, Any]:
    """An /invoke body in the native shape, its parameters in one place (a parameter given at the
    top level and in `parameters` is left in both: the native shape cannot hold it, and it is a 400)."""
    if "input" in body:
        return body
    top = {name: value for name, value in body.items() if name not in FLAT_FIELDS}
    nested = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    if top.keys() & nested.keys():
        reject()
    native = {"input": {key: body[key] for key in ("messages", "prompt") if key in body}, "parameters": {**top, **nested}}
    return native | {key: body[key] for key in ("model", "stream") if key in body}


def keep_to_what_the_document_says(case) -> None:
    """What JSON Schema cannot say in a form schemathesis generates from is said in the document's
    descriptions; a positive /invoke body must also meet the native door's rules across parameters."""
    if not isinstance(case.body, dict):
        return
    if case.operation.path != "/api/v1/tokenizer":
        case.body["model"] = served_model(case.operation.path, case.body)
    if case.operation.path.startswith("/invoke") and not NATIVE_BODY.is_valid(as_native(case.body)):
        reject()
    if case.operation.path == "/v1/chat/completions" and not CHAT_PROSE.is_valid(case.body):
        reject()
    if case.operation.path.startswith("/v1/messages") and is_prefill_while_thinking(case.body):
        reject()


def is_prefill_while_thinking(body: dict[str, Any]) -> bool:
    """The Anthropic request's rule in words (PREFILL): a last assistant message without tool_use, with
    thinking asked for."""
    def blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
        content = message["content"]
        found = content if isinstance(content, list) else [{"type": "text", "text": content}]
        # What is sent: empty texts and thinking are dropped (handlers/anthropic/content.py).
        return [block for block in found if block.get("type") not in ("thinking", "redacted_thinking")
                and not (block.get("type") == "text" and not block.get("text"))]

    thinking = body.get("thinking")
    sent = [message for message in body.get("messages") or [] if message.get("role") != "system" and blocks(message)]
    if not isinstance(thinking, dict) or thinking.get("type") == "disabled" or not sent:
        return False
    last = sent[-1]
    return last["role"] == "assistant" and not any(block.get("type") == "tool_use" for block in blocks(last))


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_response_is_one_the_document_declares(case, server):
    # "[[emulate" would ask the emulator for a failure on purpose; generated text must not.
    if isinstance(case.body, str):
        case.body = case.body.replace("[[emulate", "")
    elif isinstance(case.body, bytes):
        case.body = case.body.replace(b"[[emulate", b"")
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive:
        keep_to_what_the_document_says(case)
    excluded = []
    if case.operation.path == "/api/v1/uploads":
        excluded.append(schemathesis.checks.positive_data_acceptance)  # it exists only to refuse (always a 400)
    case.call_and_validate(base_url=server, excluded_checks=excluded)


def test_the_server_serves_this_document(server):
    served = requests.get(f"{server}/openapi.json", timeout=10).json()
    assert served == openapi_document()
    assert served["openapi"] == "3.1.0"
    for path in ("/invoke", "/invoke/messages", "/invoke/prompt", "/v1/chat/completions", "/v1/messages",
                 "/v1/messages/count_tokens", "/v1/models", "/health", "/initialize", "/pre-stop", "/"):
        assert path in served["paths"]
