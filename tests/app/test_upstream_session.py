"""The adapter's one HTTP session: what the environment says about reaching DashScope (proxies, CA
bundle) is read once, when the session is made, and ~/.netrc is never read. (The CA bundle, which
needs no call to show, is tests/unit/test_session.py.)"""

from __future__ import annotations

import dataclasses
import uuid

import requests

from app import create_app
from scripts.fc_process import free_port

# A host that must never be resolved: a call only reaches the emulator through the proxy.
UNRESOLVABLE = "http://dashscope.invalid/api/v1"


def test_a_proxy_from_the_environment_is_used(config, emulator, monkeypatch):
    # The emulator doubles as the proxy: it serves the absolute-form request line a proxy receives.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{emulator.port}")
    client = create_app(dataclasses.replace(config, dashscope_base_url=UNRESOLVABLE)).test_client()
    text = f"through the proxy {uuid.uuid4().hex}"
    response = client.post("/invoke", data=text)
    assert response.status_code == 200, response.get_json()
    assert text in emulator.last_request()["body"]["input"]["messages"][-1]["content"]


def test_no_proxy_is_honoured(config, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert create_app(config).test_client().post("/invoke", data="direct, not proxied").status_code == 200


def test_the_environment_is_read_once_not_per_call(app, monkeypatch):
    client = app.test_client()
    assert client.post("/invoke", data="first call builds the session").status_code == 200
    # A proxy that would fail every call, set after the session was made: calls do not see it.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    assert client.post("/invoke", data="second call").status_code == 200


def test_a_netrc_entry_never_replaces_the_api_key(config, emulator, tmp_path, monkeypatch):
    # requests' default (trust_env) would send this entry as Basic auth in place of the bearer key.
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login someone password not-the-api-key\n")
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    assert create_app(config).test_client().post("/invoke", data="who am I").status_code == 200
    assert emulator.last_request()["headers"]["Authorization"] == f"Bearer {config.dashscope_api_key}"


def test_the_sdks_calls_take_the_short_way_and_send_what_requests_would(config, emulator, monkeypatch):
    # core/upstream/session.py: the SDK's one POST per call skips requests' Session.request (a third of
    # the call's CPU). If the SDK ever calls the session differently, the short way silently stops
    # being taken: this fails then. What reaches DashScope must be what requests' own way sent.
    full_way: list[str] = []
    requests_own = requests.Session.request

    def counted(self, method, url, *args, **kwargs):  # noqa: ANN001, ANN202
        full_way.append(url)
        return requests_own(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counted)
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
