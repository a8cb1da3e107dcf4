"""DashScope refusing the function's own key (401 InvalidApiKey) is the owner's fault, not the
caller's: every door answers a 5xx that says so (never a 401 an OpenAI client would blame on its own
api_key), the call is not retried, and the log says it loudly without ever showing the key. What the
official openai client makes of it, over a socket, is in tests/server/test_openai_client_errors.py."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest

from app import create_app
from tests.conftest import sse_events

REFUSED_KEY = "sk-invalid"  # the key the emulator refuses, as DashScope refuses a wrong one


@pytest.fixture
def refused_client(config):
    return create_app(dataclasses.replace(config, dashscope_api_key=REFUSED_KEY)).test_client()


def assert_owner_fault(body: dict) -> None:
    assert body["code"] == "ApiKeyRefused"
    assert "DASHSCOPE_API_KEY" in body["message"] and "Your own credentials are not at fault" in body["message"]
    assert REFUSED_KEY not in body["message"]


@pytest.mark.parametrize("path", ["/invoke", "/invoke?stream=true"])
def test_invoke_answers_503_and_logs_an_error(refused_client, emulator, logs, path):
    text = f"hi {uuid.uuid4().hex}"
    response = refused_client.post(path, data=text)
    assert response.status_code == 503 and response.is_json
    assert_owner_fault(response.get_json())
    # Retries are on (config), but a refused key is never retried.
    assert len([r for r in emulator.history if text in json.dumps(r["body"], ensure_ascii=False)]) == 1
    printed = logs.text()
    errors = [json.loads(line) for line in printed.splitlines() if line.startswith('{"') and '"level":"ERROR"' in line]
    assert errors and "DashScope refused this function's DASHSCOPE_API_KEY" in errors[0]["message"]
    assert REFUSED_KEY not in printed


def test_a_refusal_inside_a_stream_is_the_same_error_event(client):
    response = client.post("/invoke?stream=true", data="a b c d [[emulate fail_after=1 code=InvalidApiKey]]")
    events = sse_events(response.get_data(as_text=True))
    event, data = events[-1]
    assert event == "error" and data["status_code"] == 503
    assert_owner_fault(data)
