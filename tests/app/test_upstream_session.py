"""The adapter's one HTTP session: what the environment says about reaching DashScope (proxies, CA
bundle) is read once, when the session is made, and ~/.netrc is never read. (The CA bundle, which
needs no call to show, is tests/unit/test_session.py.)"""

from __future__ import annotations

import dataclasses
import uuid

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
