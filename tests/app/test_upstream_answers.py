"""What DashScope (or whatever answers at its address) sends back that is not a DashScope answer: a
502 saying so, never the caller's 400, never retried, never a redirect passed on; and a Retry-After
passed on only when it is a sane number of seconds."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from app import create_app
from core.config import Config
from tests.conftest import FAKE_KEY

# What the stand-in at DashScope's address answers, chosen by a word in the request.
ANSWERS = {
    "HTMLPAGE": (200, "text/html", b"<html><body>captive portal</body></html>", {}),
    "EMPTYOBJECT": (200, "application/json", b"{}", {}),
    "JSONLIST": (200, "application/json", b"[1,2]", {}),
    "NULLOUTPUT": (200, "application/json", b'{"request_id":"r1","output":null,"usage":null}', {}),
    "CHOICESTEXT": (200, "application/json", b'{"request_id":"r1","output":{"choices":"x"},"usage":{}}', {}),
    "TOOLCALLSTEXT": (200, "application/json", b'{"request_id":"r1","output":{"choices":[{"finish_reason":"tool_calls",'
                      b'"message":{"role":"assistant","content":"","tool_calls":"x"}}]},"usage":{}}', {}),
    "DETAILSTEXT": (200, "application/json", b'{"request_id":"r1","output":{"choices":[{"finish_reason":"stop",'
                    b'"message":{"role":"assistant","content":"hi"}}]},"usage":{"output_tokens_details":"x"}}', {}),
    "REDIRECT": (302, "text/html", b"", {}),
    "HUGERETRY": (429, "application/json", b'{"code":"Throttling","message":"slow down","request_id":"r"}',
                  {"Retry-After": "99999999"}),
    "DATERETRY": (429, "application/json", b'{"code":"Throttling","message":"slow down","request_id":"r"}',
                  {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
    "GOODRETRY": (429, "application/json", b'{"code":"Throttling","message":"slow down","request_id":"r"}',
                  {"Retry-After": "30"}),
}


class _Answers(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = next(key for key in ANSWERS if key.encode() in body)
        self.received.append(key)
        status, content_type, payload, headers = ANSWERS[key]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def odd_upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture
def odd_client(odd_upstream):
    config = Config(dashscope_api_key=FAKE_KEY, dashscope_base_url=odd_upstream, upstream_retries=2,
                    upstream_retry_backoff_s=0.01)
    _Answers.received.clear()
    return create_app(config).test_client()


def call(client, word: str, door: str, stream: bool):
    if door == "invoke":
        body = {"input": {"prompt": word}, "stream": stream}
        return client.post("/invoke", json=body, headers={"X-DashScope-SSE": "enable"} if stream else {})
    return client.post("/v1/chat/completions", json={"model": "qwen-flash", "stream": stream,
                                                     "messages": [{"role": "user", "content": word}]})


# What the log line says of an answer whose JSON is not of DashScope's shape (core/upstream/answers.py).
CLUES = {"EMPTYOBJECT": "its output is NoneType, not an object", "JSONLIST": "its output is NoneType, not an object",
         "NULLOUTPUT": "its output is NoneType, not an object",
         "CHOICESTEXT": "its output.choices is str, not a list",
         "TOOLCALLSTEXT": "its message's tool_calls is not a list of objects",
         "DETAILSTEXT": "its usage.output_tokens_details is str, not an object"}


def error_of(response, door: str) -> tuple[str, str]:
    body = response.get_json()
    return (body["code"], body["message"]) if door == "invoke" else (body["error"]["code"], body["error"]["message"])


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("door", ["invoke", "v1"])
@pytest.mark.parametrize("word", ["HTMLPAGE", "EMPTYOBJECT", "JSONLIST", "NULLOUTPUT", "CHOICESTEXT", "TOOLCALLSTEXT",
                                  "DETAILSTEXT", "REDIRECT"])
def test_an_unreadable_answer_is_a_502_saying_so_and_never_retried(odd_client, logs, word, door, stream):
    response = call(odd_client, word, door, stream)
    assert response.status_code == 502, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    code, message = error_of(response, door)
    assert code == "UpstreamBadResponse"
    assert "nothing was sent" not in message and "Traceback" not in message
    assert _Answers.received == [word]  # once: the same call would get the same answer
    if word in CLUES:  # the clue to what came back is in the log: what was wrong with its shape
        assert CLUES[word] in logs.text()
    elif word != "REDIRECT":
        assert "Traceback" in logs.text()  # or the SDK's failure reading it


def test_dashscope_shaped_status_200_with_an_error_code_is_not_the_callers_400(client, emulator):
    response = client.post("/invoke", data=b"hi [[emulate status=200 code=Weird]]", content_type="application/octet-stream")
    assert response.status_code == 502 and response.get_json()["code"] == "UpstreamBadResponse"


@pytest.mark.parametrize("word, passed_on", [("HUGERETRY", None), ("DATERETRY", None), ("GOODRETRY", "30")])
def test_retry_after_is_passed_on_only_when_it_is_a_sane_number_of_seconds(odd_client, word, passed_on):
    response = call(odd_client, word, "invoke", False)
    assert response.status_code == 429
    assert response.headers.get("Retry-After") == passed_on
