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
