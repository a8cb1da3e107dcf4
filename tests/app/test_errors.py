"""Every bad input and every upstream failure gets a JSON error naming it, with the right status."""

from __future__ import annotations

import dataclasses

import pytest

from app import create_app
from web.services import services
from scripts.fc_process import free_port

ERROR_KEYS = {"status_code", "request_id", "code", "message"}


def assert_error(response, status: int, code: str | None = None, mentions: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert body["status_code"] == status
    assert body["request_id"]
    if code is not None:
        assert body["code"] == code
    if mentions is not None:
        assert mentions in body["message"], body["message"]
    assert "Traceback" not in body["message"] and "<html" not in response.get_data(as_text=True).lower()
    return body


@pytest.mark.parametrize("body", [b"", b"   \n\t "])
def test_empty_body(client, body):
    assert_error(client.post("/invoke", data=body), 400, "InvalidParameter", "empty")


def test_malformed_json(client):
    assert_error(client.post("/invoke", data=b'{"messages": [', content_type="application/json"), 400, mentions="not valid JSON")


def test_json_that_is_not_an_object(client):
    assert_error(client.post("/invoke", json=["hello"]), 400, mentions="object")


def test_invalid_utf8(client):
    assert_error(client.post("/invoke", data=b"\xff\xfe\x00bad"), 400, mentions="UTF-8")


@pytest.mark.parametrize(
    "body, mentions",
    [
        ({"model": "qwen-flash"}, "`messages`"),
        ({"messages": [], "model": "qwen-flash"}, "messages"),
        ({"messages": "hello"}, "`messages` must be a list"),
        ({"messages": [{"role": "bot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0]"),
        ({"messages": [{"role": "user", "content": 42}]}, "messages[0].content"),
        ({"messages": [{"content": "no role"}]}, "messages[0].role"),
        ({"messages": [{"role": "assistant", "content": None}]}, "assistant"),
        ({"prompt": ""}, "`prompt`"),
        ({"prompt": 12}, "`prompt`"),
        ({"prompt": "x", "model": ""}, "`model`"),
        ({"prompt": "x", "model": 3}, "`model`"),
        ({"prompt": "x", "stream": "yes"}, "`stream`"),
        ({"messages": [{"role": "user", "content": "x"}], "prompt": "y"}, "either"),
        ({"input": "hi"}, "`input`"),
        ({"input": {"prompt": "x"}, "parameters": []}, "`parameters`"),
        ({"input": {"prompt": "x"}, "temperature": 0.5}, "`temperature`"),
        ({"prompt": "x", "temperature": 0.5, "parameters": {"temperature": 0.1}}, "`temperature`"),
    ],
)
def test_malformed_bodies(client, body, mentions):
    assert_error(client.post("/invoke", json=body), 400, "InvalidParameter", mentions)


@pytest.mark.parametrize(
    "name, value",
    [
        ("temperature", 2),
        ("temperature", -0.1),
        ("temperature", "0.5"),
        ("top_p", 0),
        ("top_p", 1.5),
        ("top_k", -1),
        ("top_k", 1.5),
        ("max_tokens", 0),
        ("max_tokens", True),
        ("seed", -1),
        ("seed", 2**64),
        ("stop", ["a", 1]),
        ("stop", 5),
        ("repetition_penalty", 0),
        ("presence_penalty", 2.5),
        ("enable_search", "true"),
        ("result_format", "json"),
        ("tools", []),
        ("tools", [{"type": "function", "function": {"description": "no name"}}]),
        ("tool_choice", "always"),
        ("response_format", {"type": "yaml"}),
        ("incremental_output", 1),
    ],
)
def test_bad_parameter_values_are_named(client, emulator, name, value):
    emulator.clear()
    response = client.post("/invoke", json={"messages": [{"role": "user", "content": "hi"}], name: value})
    assert_error(response, 400, "InvalidParameter", f"`{name}")
    assert emulator.history == []  # rejected before any upstream call


def test_tools_with_text_format_is_rejected(client):
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert_error(
        client.post("/invoke", json={"prompt": "x", "tools": tools, "result_format": "text"}), 400, mentions="result_format"
    )


@pytest.mark.parametrize("name", ["base_address", "api_key", "headers", "session", "workspace", "request_timeout"])
def test_sdk_control_arguments_cannot_be_smuggled_in(client, emulator, name):
    emulator.clear()
    response = client.post("/invoke", json={"prompt": "x", name: "http://attacker.example"})
    assert_error(response, 400, "InvalidParameter", f"`{name}`")
    response = client.post("/invoke", json={"input": {"prompt": "x"}, "parameters": {name: "x"}})
    assert_error(response, 400, "InvalidParameter", f"`{name}`")
    assert emulator.history == []


def test_other_modes_field_on_a_fixed_route(client):
    body = assert_error(client.post("/invoke/messages", json={"prompt": "hi"}), 400, mentions="expects `messages`")
    assert "/invoke/prompt" in body["message"]
    assert_error(
        client.post("/invoke/prompt", json={"messages": [{"role": "user", "content": "hi"}]}), 400, mentions="expects `prompt`"
    )
    assert_error(client.post("/invoke/prompt", json={"input": {"messages": []}}), 400, mentions="expects `prompt`")


def test_unknown_path_is_json_404(client):
    assert_error(client.get("/nowhere"), 404, "NotFound")
    assert_error(client.post("/invoke/chat", data="hi"), 404, "NotFound")


@pytest.mark.parametrize("method, path", [("get", "/invoke"), ("put", "/invoke/prompt"), ("post", "/health"), ("get", "/initialize")])
def test_wrong_method_is_json_405_with_allow(client, method, path):
    response = getattr(client, method)(path)
    assert_error(response, 405, "MethodNotAllowed")
    assert response.headers["Allow"]


def test_bad_stream_query(client):
    assert_error(client.post("/invoke?stream=maybe", data="hi"), 400, mentions="`stream`")


@pytest.mark.parametrize(
    "directive, status, code",
    [
        ("status=429 code=Throttling.RateQuota", 429, "Throttling.RateQuota"),
        ("status=400 code=DataInspectionFailed", 400, "DataInspectionFailed"),
        ("status=500 code=InternalError", 500, "InternalError"),
        ("status=503 code=ModelUnavailable", 503, "ModelUnavailable"),
    ],
)
def test_upstream_errors_keep_status_code_and_message(client, emulator, directive, status, code):
    response = client.post("/invoke", json={"prompt": f"hi [[emulate {directive} message=\"from upstream\"]]"})
    body = assert_error(response, status, code, "from upstream")
    assert body["request_id"] == emulator.last_request()["request_id"]
    assert response.headers["X-Request-Id"] != body["request_id"]


def test_upstream_rejects_the_model(client):
    assert_error(client.post("/invoke", json={"model": "gpt-4", "prompt": "hi"}), 400, "InvalidParameter", "Model not exist")


def test_upstream_rejects_the_key(config):
    client = create_app(dataclasses.replace(config, dashscope_api_key="sk-invalid")).test_client()
    body = assert_error(client.post("/invoke", data="hi"), 503, "ApiKeyRefused")  # the owner's fault: tests/app/test_key_refused.py
    assert "sk-invalid" not in body["message"]


def test_upstream_unreachable_is_502(config):
    nothing_listens = f"http://127.0.0.1:{free_port()}/api/v1"
    client = create_app(dataclasses.replace(config, dashscope_base_url=nothing_listens)).test_client()
    assert_error(client.post("/invoke", data="hi"), 502, "UpstreamUnreachable")
    # A stream that cannot even start is the same plain JSON error, not a broken stream.
    assert_error(client.post("/invoke?stream=true", data="hi"), 502, "UpstreamUnreachable")


def test_upstream_timeout_is_504(config):
    client = create_app(dataclasses.replace(config, upstream_timeout_s=0.3)).test_client()
    assert_error(client.post("/invoke", data="hi [[emulate delay=1.5]]"), 504, "UpstreamTimeout")


def test_missing_key_is_503_naming_the_variable(config, emulator):
    emulator.clear()
    client = create_app(dataclasses.replace(config, dashscope_api_key=None)).test_client()
    assert_error(client.post("/invoke", data="如何做西红柿炖牛腩?"), 503, "ApiKeyNotConfigured", "DASHSCOPE_API_KEY")
    assert_error(client.post("/invoke", json={"prompt": "x", "stream": True}), 503, "ApiKeyNotConfigured")
    assert client.get("/health").status_code == 200
    assert emulator.history == []


def test_an_unexpected_exception_is_a_json_500(app, client, mocker):
    # The seam: the upstream client blows up in a way nobody planned for.
    mocker.patch.object(services_of(app).upstream, "complete", side_effect=RuntimeError("secret internals"))
    body = assert_error(client.post("/invoke", data="hi"), 500, "InternalError")
    assert "secret internals" not in body["message"]


def services_of(app):
    with app.app_context():
        return services()


# -- JSON that parses badly, or that the SDK could not send: a 400, never a 5xx or a retry ---------

DEEP = "[" * 1000 + "1" + "]" * 1000
LONG_INT = "1" * 5000
OPENAI_HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    "raw, mentions",
    [
        ('{"prompt": "hi", "stop": ' + DEEP + "}", "nested"),
        ('{"prompt": "hi", "seed": ' + LONG_INT + "}", "4300"),
        ('{"prompt": "hi", "stop": ' + "[" * 600 + '"x"' + "]" * 600 + "}", "nested"),
        ('{"prompt": "hi \\ud800 there"}', "surrogate"),
        ('{"messages": [{"role": "user", "content": "\\udfff"}]}', "surrogate"),
    ],
)
@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
def test_json_the_model_could_never_get_is_a_400_on_invoke(client, emulator, logs, raw, mentions, content_type):
    emulator.clear()
    logs.clear()
    assert_error(client.post("/invoke", data=raw, content_type=content_type), 400, "InvalidParameter", mentions)
    assert emulator.history == []
    assert "retries" not in logs.requests()[0]


@pytest.mark.parametrize(
    "raw, mentions",
    [
        ('{"messages": [{"role": "user", "content": "hi"}], "stop": ' + DEEP + "}", "nested"),
        ('{"messages": [{"role": "user", "content": "hi"}], "seed": ' + LONG_INT + "}", "4300"),
        ('{"messages": [{"role": "user", "content": "\\ud800"}]}', "surrogate"),
        ('{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": ' + "[" * 700 + "]" * 700 + "}}]}", "nested"),
    ],
)
def test_json_the_model_could_never_get_is_a_400_on_v1(client, emulator, raw, mentions):
    emulator.clear()
    response = client.post("/v1/chat/completions", data=raw, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "invalid_request_error" and mentions in error["message"], error
    assert emulator.history == []


@pytest.mark.parametrize(
    "message, param",
    [
        ({"role": "assistant", "tool_calls": 5}, "messages[1].tool_calls"),
        ({"role": "assistant", "tool_calls": 2.5}, "messages[1].tool_calls"),
        ({"role": "assistant", "tool_calls": True}, "messages[1].tool_calls"),
        ({"role": "assistant", "tool_calls": [{"id": {"x": 1}, "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "messages[1].tool_calls[0].id"),
        ({"role": "tool", "tool_call_id": {"x": 1}, "content": "42"}, "messages[1].tool_call_id"),
        ({"role": "tool", "tool_call_id": ["a"], "content": "42"}, "messages[1].tool_call_id"),
    ],
)
def test_malformed_tool_calls_are_a_400_on_v1(client, emulator, message, param):
    emulator.clear()
    response = client.post("/v1/chat/completions", json={"messages": [*OPENAI_HELLO, message]})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["param"] == param
    assert emulator.history == []


def test_a_request_the_sdk_cannot_build_is_the_callers_400_and_never_retried(app, emulator):
    # Past the doors' own checks (which refuse this first): what the SDK fails on before sending.
    from core.errors import InvalidRequest
    from core.types import GenerationCall

    retried = []
    upstream = services_of(app).upstream
    upstream._on_retry = lambda attempt, error: retried.append(error)
    emulator.clear()
    no_input = GenerationCall("qwen-flash")  # the SDK's own check: "prompt or messages is required"
    for content in ["\ud800", __import__("json").loads("[" * 700 + "]" * 700), None]:
        call = no_input if content is None else GenerationCall("qwen-flash", messages=[{"role": "user", "content": content}])
        with pytest.raises(InvalidRequest, match="nothing was sent"):
            upstream.complete(call)
        with pytest.raises(InvalidRequest, match="nothing was sent"):
            next(upstream.stream(call))
    assert emulator.history == [] and retried == []
