"""Who may call the Anthropic door: INVOKE_TOKEN in `x-api-key` (what the anthropic SDK sends) or in
`Authorization: Bearer` (Claude Code's ANTHROPIC_AUTH_TOKEN), on this door and the others; a refusal in
Anthropic's shape under /v1/messages while the rest of /v1/ keeps OpenAI's."""

from __future__ import annotations

import dataclasses

from app import create_app

TOKEN = "owner-token-anthropic-access"
BODY = {"model": "qwen-flash", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


def test_the_token_is_taken_from_x_api_key_or_bearer_on_every_door(config):
    client = create_app(dataclasses.replace(config, invoke_tokens=(TOKEN,))).test_client()
    assert client.post("/v1/messages", json=BODY, headers={"x-api-key": TOKEN}).status_code == 200
    assert client.post("/v1/messages?beta=true", json=BODY, headers={"Authorization": f"Bearer {TOKEN}",
                       "anthropic-version": "2023-06-01"}).status_code == 200
    chat = {"model": "qwen-flash", "messages": [{"role": "user", "content": "hi"}]}
    assert client.post("/v1/chat/completions", json=chat, headers={"x-api-key": TOKEN}).status_code == 200

    refused = client.post("/v1/messages", json=BODY, headers={"x-api-key": "wrong"})
    assert refused.status_code == 401
    assert refused.json["type"] == "error" and refused.json["error"]["type"] == "authentication_error"
    assert TOKEN not in refused.get_data(as_text=True)
    openai_refused = client.post("/v1/chat/completions", json=chat)
    assert openai_refused.status_code == 401 and openai_refused.json["error"]["type"] == "authentication_error"
    assert "type" not in openai_refused.json  # OpenAI's shape, not Anthropic's


def test_a_body_that_is_not_json_is_anthropics_400(client):
    answer = client.post("/v1/messages", data="hello", content_type="text/plain")
    assert answer.status_code == 400 and answer.json["error"]["type"] == "invalid_request_error"
    wrong_method = client.get("/v1/messages")
    assert wrong_method.status_code == 405 and wrong_method.json["type"] == "error"


def test_the_log_line_names_the_door_the_model_called_and_the_usage(config, logs):
    client = create_app(dataclasses.replace(config, anthropic_model_map=(("claude-*", "qwen-flash"),))).test_client()
    logs.clear()
    answer = client.post("/v1/messages", json={**BODY, "model": "claude-haiku-4-5", "metadata": {"user_id": "u-9"},
                                               "context_management": {"edits": []}})
    assert answer.status_code == 200
    line = logs.requests()[-1]
    assert (line["door"], line["model"], line["model_asked"], line["user"]) == ("anthropic", "qwen-flash",
                                                                               "claude-haiku-4-5", "u-9")
    assert line["usage"]["output_tokens"] == answer.json["usage"]["output_tokens"]
    assert line["parameters_changed"] == ["context_management ignored"]
