"""Where the session's short way (core/upstream/session.py) could part from requests' own way: the
environment's proxy settings, and a redirect requests would have followed."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from app import create_app


@pytest.fixture
def full_way(monkeypatch) -> list[str]:
    """The URLs that went through requests' own Session.request (not the short way)."""
    taken: list[str] = []
    requests_own = requests.Session.request

    def counted(self, method, url, *args, **kwargs):  # noqa: ANN001, ANN202
        taken.append(url)
        return requests_own(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counted)
    return taken


def test_no_proxy_alone_keeps_the_short_way(config, full_way, monkeypatch):
    # NO_PROXY with no proxy to bypass (common where a platform sets it): requests' environment reading
    # gives {"no": ...}, which is no proxy at all, and must not send every call the long way.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "metadata.internal,169.254.0.0/16")
    client = create_app(config).test_client()
    assert client.post("/invoke", data=f"no proxy {uuid.uuid4().hex}").status_code == 200
    assert full_way == []


def test_a_proxy_for_another_scheme_keeps_the_short_way(config, full_way, monkeypatch):
    # An https proxy only: the http upstream (here, the emulator) is reached directly, by the short way.
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
    client = create_app(config).test_client()
    assert client.post("/invoke", data=f"direct {uuid.uuid4().hex}").status_code == 200
    assert full_way == []


class _MovedThenRelayed(BaseHTTPRequestHandler):
    """A gateway in front of the emulator: /moved/... answers 308 to the same path without /moved (as a
    gateway does when an API moves); anything else is relayed to the emulator as it came."""

    upstream = ""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/moved/"):
            self.send_response(308)
            self.send_header("Location", self.path[len("/moved"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {name: value for name, value in self.headers.items() if name.lower() not in ("host", "content-length")}
        answer = requests.post(self.upstream + self.path, data=body, headers=headers, timeout=10)
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *_args: object) -> None:
        pass


def test_a_redirect_is_followed_as_requests_follows_it(config, emulator):
    # requests' own way follows a 307/308 with the same POST (and the key, on the same host); the short
    # way must not turn that into a 502.
    handler = type("Relay", (_MovedThenRelayed,), {"upstream": f"http://127.0.0.1:{emulator.port}"})
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        moved = f"http://127.0.0.1:{gateway.server_address[1]}/moved/api/v1"
        client = create_app(dataclasses.replace(config, dashscope_base_url=moved)).test_client()
        marker = uuid.uuid4().hex
        response = client.post("/invoke", data=f"moved {marker}")
        assert response.status_code == 200, response.get_json()
        assert marker in emulator.last_request()["body"]["input"]["messages"][-1]["content"]
        streamed = client.post("/invoke?stream=true", data=f"moved, streamed {marker}")
        assert streamed.status_code == 200 and b'"finish_reason":"stop"' in streamed.data
    finally:
        gateway.shutdown()
        gateway.server_close()


class _CookieSettingProxy(BaseHTTPRequestHandler):
    """An HTTP proxy in front of the emulator that sets a cookie on every answer (as a gateway's load
    balancer does) and records the Cookie header each request came with."""

    upstream = ""
    cookies_seen: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.cookies_seen.append(self.headers.get("Cookie"))
        path = "/" + self.path.split("://", 1)[-1].split("/", 1)[1]  # the absolute-form target's path
        headers = {name: value for name, value in self.headers.items()
                   if name.lower() not in ("host", "content-length", "cookie", "proxy-connection")}
        direct = requests.Session()
        direct.trust_env = False  # not through HTTP_PROXY, which is this proxy
        answer = direct.post(self.upstream + path, data=body, headers=headers, timeout=10)
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Set-Cookie", f"acw_tc={uuid.uuid4().hex}; Path=/")
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *_args: object) -> None:
        pass


def test_no_callers_cookie_goes_with_the_next_call_through_a_proxy(config, emulator, monkeypatch):
    # Through a proxy every call takes requests' full way, which keeps cookies in the session all
    # callers share; the session must not send one call's cookie with the next caller's call.
    handler = type("Proxy", (_CookieSettingProxy,), {"upstream": f"http://127.0.0.1:{emulator.port}", "cookies_seen": []})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        client = create_app(dataclasses.replace(config, dashscope_base_url="http://dashscope.invalid/api/v1")).test_client()
        for caller in ("first caller", "second caller"):
            response = client.post("/invoke", data=f"{caller} {uuid.uuid4().hex}")
            assert response.status_code == 200, response.get_json()
        assert handler.cookies_seen == [None, None]
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_every_endpoint_and_door_takes_the_short_way(config, emulator, full_way):
    # The multimodal endpoint, TextEmbedding and the native door go through the same session as /invoke.
    client = create_app(config).test_client()
    marker = uuid.uuid4().hex
    vision = client.post("/invoke", json={"model": "qwen3.6-flash", "messages": [
        {"role": "user", "content": [{"text": f"vision {marker}"}]}]})
    assert vision.status_code == 200, vision.get_json()
    assert emulator.last_request()["path"].endswith("/multimodal-generation/generation")
    native = client.post("/api/v1/services/aigc/text-generation/generation",
                         json={"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": marker}]}},
                         headers={"X-DashScope-SSE": "enable"})
    assert native.status_code == 200 and b"event:result" in native.data, native.data[:300]
    embedded = client.post("/api/v1/services/embeddings/text-embedding/text-embedding",
                           json={"model": "text-embedding-v4", "input": {"texts": [marker]}})
    assert embedded.status_code == 200, embedded.get_json()
    assert emulator.last_request()["path"].endswith("/text-embedding/text-embedding")
    assert full_way == []


def test_the_sdks_calls_take_the_short_way_and_send_what_requests_would(config, emulator, full_way):
    # core/upstream/session.py: the SDK's one POST per call skips requests' Session.request (a third of
    # the call's CPU). If the SDK ever calls the session differently, the short way silently stops
    # being taken: this fails then. What reaches DashScope must be what requests' own way sent.
    client = create_app(config).test_client()
    marker = uuid.uuid4().hex
    assert client.post("/invoke", data=f"a call {marker}").status_code == 200
    streamed = client.post("/invoke?stream=true", data=f"a stream {marker}")
    assert streamed.status_code == 200 and b'"finish_reason":"stop"' in streamed.data
    assert client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": marker}]}).status_code == 200
    assert full_way == []

    sent = emulator.last_request()
    headers = {name.lower(): value for name, value in sent["headers"].items()}
    assert headers["authorization"] == f"Bearer {config.dashscope_api_key}"
    assert headers["content-type"].startswith("application/json")
    assert headers["user-agent"].startswith("dashscope/")  # the SDK's own headers, over the session's
    assert "gzip" in headers["accept-encoding"]  # the session's defaults under them, as requests merges
    assert marker in sent["body"]["input"]["messages"][-1]["content"]
