"""A whole-number float (`1024.0`) is JSON's 1024, and JSON Schema's `integer` (so the OpenAPI
document's): every integer parameter takes it, and DashScope gets the integer."""

from __future__ import annotations

import json

from core.config import Config
from handlers.invoke.body import parse_invoke_body
from handlers.openai.embeddings_body import parse_embeddings_request
from handlers.openai.chat_request import parse_chat_request

CONFIG = Config(dashscope_api_key="sk-test")
HI = [{"role": "user", "content": "hi"}]


def test_integer_parameters_take_whole_number_floats_and_send_integers():
    body = {"messages": HI, "top_k": 5.0, "seed": 7.0, "max_tokens": 64.0}
    parameters = parse_invoke_body(json.dumps(body).encode(), "application/json", CONFIG).call.parameters
    assert (parameters["top_k"], parameters["seed"], parameters["max_tokens"]) == (5, 7, 64)
    assert all(type(parameters[name]) is int for name in ("top_k", "seed", "max_tokens"))
    chat = parse_chat_request({"model": "qwen-plus", "messages": HI, "max_completion_tokens": 1368.0, "n": 2.0}, CONFIG)
    assert chat.call.parameters["max_tokens"] == 1368 and type(chat.call.parameters["n"]) is int
    embeddings = parse_embeddings_request({"model": "text-embedding-v4", "input": "hi", "dimensions": 1024.0})
    assert embeddings.call.parameters == {"dimension": 1024}
