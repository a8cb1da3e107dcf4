"""Request ids, the one log line per request, and secrets that never show up anywhere."""

from __future__ import annotations

import dataclasses

import pytest

from app import create_app
from tests.conftest import FAKE_KEY

TOKENS = ("first-invoke-token", "second-invoke-token")

FC_CREDENTIALS = {
    "x-fc-access-key-id": "LTAI-fc-access-key-id-value",
    "x-fc-access-key-secret": "fc-access-key-secret-value",
    "x-fc-security-token": "fc-security-token-value",
}


def test_fc_request_id_is_used_and_echoed(client, logs):
    response = client.post("/invoke", data="hi", headers={"x-fc-request-id": "1-6789abcd-0123456789abcdef"})
    assert response.headers["X-Request-Id"] == "1-6789abcd-0123456789abcdef"
    (line,) = logs.requests()
    assert line["request_id"] == "1-6789abcd-0123456789abcdef"


def test_a_request_id_is_made_when_fc_sent_none(client):
    first = client.get("/health").headers["X-Request-Id"]
    second = client.get("/health").headers["X-Request-Id"]
    assert first and second and first != second


def test_errors_carry_the_request_id_too(client):
    response = client.post("/invoke", data="")
    assert response.headers["X-Request-Id"] == response.get_json()["request_id"]
    response = client.get("/missing")
    assert response.headers["X-Request-Id"] == response.get_json()["request_id"]


def test_one_log_line_per_request_with_what_happened(client, logs, emulator):
    logs.clear()
    response = client.post("/invoke", json={"model": "qwen-plus", "prompt": "hello"})

    (line,) = logs.requests()
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert line["method"] == "POST" and line["path"] == "/invoke" and line["status"] == 200
    assert line["mode"] == "prompt" and line["model"] == "qwen-plus" and line["stream"] is False
    assert line["upstream_request_id"] == emulator.last_request()["request_id"]
    assert line["usage"]["total_tokens"] > 0
    assert line["latency_ms"] >= 0


def test_a_stream_logs_one_line_when_it_ends(client, logs):
    logs.clear()
    client.post("/invoke", json={"prompt": "a b c d e f g h [[emulate fail_after=1]]", "stream": True}).get_data()

    (line,) = logs.requests()
    assert line["stream"] is True
    assert line["error_code"] == "InternalError"
    assert line["usage"]["output_tokens"] > 0


def test_an_error_line_names_the_code(client, logs):
    logs.clear()
    client.post("/invoke", json={"prompt": "x", "temperature": 9})
    (line,) = logs.requests()
    assert line["status"] == 400 and line["error_code"] == "InvalidParameter"


def test_secrets_and_content_never_reach_a_response_or_a_log(config, client, logs, emulator):
    """The one in-process check of every secret: DashScope's key, inbound tokens (right and wrong),
    a caller's own bearer token and FC's credential headers, on calls that pass, stream, fail and
    are refused. (tests/server/test_served_log.py checks gunicorn's own output the same way.)"""
    guarded = create_app(dataclasses.replace(config, invoke_tokens=TOKENS)).test_client()
    logs.clear()
    content = "my-private-question-text"
    headers = {**FC_CREDENTIALS, "Authorization": "Bearer caller-token-value"}
    responses = [
        guarded.post("/invoke", data="hi", headers={**FC_CREDENTIALS, "Authorization": f"Bearer {TOKENS[0]}"}),
        guarded.post("/invoke", data="hi", headers={"Authorization": f"Bearer {TOKENS[0]}x"}),
        client.post("/invoke", data=content, headers=headers),
        client.post("/invoke", json={"prompt": content, "stream": True}, headers=headers),
        client.post("/invoke", json={"prompt": content, "temperature": 7}, headers=headers),
        client.post("/invoke", json={"prompt": f"{content} [[emulate status=500]]"}, headers=headers),
        client.get("/health", headers=headers),
    ]
    assert [r.status_code for r in responses[:2]] == [200, 401]
    seen = "".join(r.get_data(as_text=True) + str(dict(r.headers)) for r in responses)
    everything_logged = logs.text()

    for secret in [FAKE_KEY, "caller-token-value", *TOKENS, *FC_CREDENTIALS.values()]:
        assert secret not in seen
        assert secret not in everything_logged
    assert content not in everything_logged
    # The caller's Authorization header is never the key DashScope sees.
    assert emulator.last_request()["api_key"] == FAKE_KEY


def test_a_stream_the_client_abandoned_is_logged_as_such(client, logs):
    logs.clear()
    response = client.post("/invoke", json={"prompt": " ".join(["word"] * 30) + " [[emulate chunk_delay=0.05]]", "stream": True}, buffered=False)
    events = response.iter_encoded()
    next(events), next(events)
    response.close()  # what a server does when the client has gone: close the body before its end

    (line,) = logs.requests()
    assert line["status"] == 499 and line["client_closed"] is True
    assert line["events_sent"] == 1  # the second was being written when the client went
    assert line["usage"]["output_tokens"] > 0
    assert "error_code" not in line


def test_a_finished_stream_is_not_marked_closed(client, logs):
    logs.clear()
    client.post("/invoke", json={"prompt": "a b c", "stream": True}).get_data()
    (line,) = logs.requests()
    assert line["status"] == 200 and "client_closed" not in line and line["events_sent"] >= 2


@pytest.mark.parametrize(
    "given",
    ["x" * 8192, "x" * 129, "id with spaces", "id\"quote", "ïd", "a/b", ""],
)
def test_a_request_id_that_does_not_look_like_one_is_replaced(client, logs, given):
    logs.clear()
    response = client.get("/health", headers={"x-fc-request-id": given})
    made = response.headers["X-Request-Id"]
    assert made != given and len(made) == 32
    (line,) = logs.requests()
    assert line["request_id"] == made


@pytest.mark.parametrize("given", ["1-6789abcd-0123456789abcdef", "c8a1b2d3-4e5f-6789-abcd-ef0123456789", "a" * 128, "A.b_c-9"])
def test_a_request_id_that_looks_like_one_is_kept(client, given):
    assert client.get("/health", headers={"x-fc-request-id": given}).headers["X-Request-Id"] == given


@pytest.mark.parametrize("path, allowed", [("/invoke", {"POST", "OPTIONS"}), ("/health", {"GET", "HEAD", "OPTIONS"})])
def test_flasks_automatic_options_answer_becomes_a_204_without_a_content_type(client, logs, path, allowed):
    """Flask answers OPTIONS itself with an empty 200 labelled text/html; RequestTracking (web/tracking.py)
    makes it what it is: 204 No Content, no Content-Type, the Allow header and the request id kept."""
    logs.clear()
    response = client.options(path)
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers and "Content-Length" not in response.headers
    assert set(response.headers["Allow"].split(", ")) == allowed and response.headers["X-Request-Id"]
    (line,) = logs.requests()
    assert line["method"] == "OPTIONS" and line["status"] == 204
