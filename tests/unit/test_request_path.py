"""The one request path (web/serve.py) and the doors, in-process on the fake upstream
(tests/fake_upstream.py): what each door answers a caller for the same upstream answer or failure, the
call the upstream receives, and the MAX_IN_FLIGHT slot a stream holds until it ends. The SDK against
the emulator is the app tier's (tests/app/)."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from app import create_app
from core.config import Config
from core.errors import UpstreamError, UpstreamModelNotFound
from tests.fake_upstream import REQUEST_ID, FakeUpstream

REPLY = "Tomatoes first, then the beef."


def client_of(fake: FakeUpstream, **settings: object) -> FlaskClient:
    return create_app(Config(dashscope_api_key="sk-fake-upstream", **settings), upstream=fake).test_client()


def sse_data(body: bytes) -> list[str]:
    return [line[len("data:"):].strip() for line in body.decode().splitlines() if line.startswith("data:")]


def test_invoke_answers_what_the_upstream_said_in_dashscope_s_shape() -> None:
    fake = FakeUpstream(REPLY)
    response = client_of(fake).post("/invoke", data="How do I stew beef?".encode(),
                                    content_type="application/octet-stream")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status_code"] == 200 and body["request_id"] == REQUEST_ID
    assert body["output"]["choices"][0]["message"]["content"] == REPLY
    assert body["usage"]["output_tokens"] == len(REPLY.split())
    [call] = fake.calls  # the call DashScope would have received: the user's words after the system prompt
    assert call.model == "qwen-plus" and call.messages[-1] == {"role": "user", "content": "How do I stew beef?"}


def test_the_openai_door_shapes_the_same_answer_as_a_chat_completion() -> None:
    fake = FakeUpstream(REPLY)
    response = client_of(fake).post("/v1/chat/completions", json={
        "model": "qwen-flash", "messages": [{"role": "user", "content": "Stew?"}], "max_completion_tokens": 50})
    assert response.status_code == 200
    body = response.get_json()
    assert body["object"] == "chat.completion" and body["model"] == "qwen-flash"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == 3
    assert fake.calls[0].parameters["max_tokens"] == 50  # OpenAI's name, as DashScope takes it


def test_an_openai_stream_carries_the_whole_reply_then_done() -> None:
    fake = FakeUpstream(REPLY)
    response = client_of(fake).post("/v1/chat/completions", json={
        "model": "qwen-plus", "messages": [{"role": "user", "content": "Stew?"}], "stream": True})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = sse_data(response.get_data())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks if chunk["choices"]) == REPLY
    assert fake.calls[0].parameters["incremental_output"] is True


def test_the_native_door_answers_as_dashscope_does() -> None:
    fake = FakeUpstream(REPLY)
    response = client_of(fake).post("/api/v1/services/aigc/text-generation/generation", json={
        "model": "qwen-max", "input": {"prompt": "Stew?"}})
    assert response.status_code == 200
    assert response.get_json() == {"output": {"text": REPLY, "finish_reason": "stop"},
                                   "usage": {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
                                   "request_id": REQUEST_ID}


def test_embeddings_on_both_doors_that_take_them() -> None:
    fake = FakeUpstream()
    client = client_of(fake)
    openai = client.post("/v1/embeddings", json={"model": "text-embedding-v4", "input": ["beef", "tomato"]})
    assert openai.status_code == 200
    assert [item["embedding"] for item in openai.get_json()["data"]] == [[0.5, -0.25, 4.0], [0.5, -0.25, 6.0]]
    native = client.post("/api/v1/services/embeddings/text-embedding/text-embedding",
                         json={"model": "text-embedding-v4", "input": {"texts": ["beef"]}})
    assert native.status_code == 200
    assert native.get_json()["output"]["embeddings"] == [{"text_index": 0, "embedding": [0.5, -0.25, 4.0]}]


def test_one_upstream_failure_in_each_door_s_own_error_shape() -> None:
    failure = UpstreamError("the upstream broke", status=500, code="InternalError.Algo", upstream_request_id="ds-1")
    client = client_of(FakeUpstream(error=failure))
    invoke = client.post("/invoke", json={"prompt": "Stew?"})
    assert invoke.status_code == 500
    assert invoke.get_json() == {"status_code": 500, "request_id": "ds-1", "code": "InternalError.Algo",
                                 "message": "the upstream broke"}
    openai = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Stew?"}]})
    assert openai.status_code == 500
    assert openai.get_json()["error"]["code"] == "InternalError.Algo"
    native = client.post("/api/v1/services/aigc/text-generation/generation", json={"input": {"prompt": "Stew?"}})
    assert native.status_code == 500
    assert native.get_json() == {"code": "InternalError.Algo", "message": "the upstream broke", "request_id": "ds-1"}


def test_a_model_the_upstream_does_not_know_is_openai_s_404_on_v1_only() -> None:
    client = client_of(FakeUpstream(error=UpstreamModelNotFound("Model not exist.", status=400, code="InvalidParameter")))
    assert client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}).status_code == 404
    assert client.post("/invoke", json={"prompt": "hi"}).status_code == 400


def test_a_stream_holds_its_slot_until_it_ends() -> None:
    client = client_of(FakeUpstream(REPLY, max_in_flight=1))  # MAX_IN_FLIGHT is the upstream's to keep
    asked = {"messages": [{"role": "user", "content": "Stew?"}], "stream": True}
    first = client.post("/v1/chat/completions", json=asked, buffered=False)
    assert first.status_code == 200
    refused = client.post("/v1/chat/completions", json=asked)  # the one slot is the open stream's
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "TooManyInFlight"
    assert sse_data(first.get_data())[-1] == "[DONE]"  # read to its end: the slot is free again
    first.close()
    assert client.post("/v1/chat/completions", json=asked).status_code == 200


def test_the_initialize_hook_warms_the_upstream() -> None:
    fake = FakeUpstream()
    response = client_of(fake).post("/initialize", headers={"x-fc-control-path": "/initialize"})
    assert response.status_code == 200 and fake.warmed
