"""The upstream HTTP session (core/upstream/session.py), made without a call."""

from __future__ import annotations

from core.upstream.session import pooled_session


def test_a_ca_bundle_from_the_environment_is_trusted(monkeypatch, tmp_path):
    # No HTTPS upstream here to prove it end to end: the session carries the bundle requests would have used.
    bundle = tmp_path / "corporate-ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert pooled_session("https://dashscope.aliyuncs.com/api/v1").verify == str(bundle)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert pooled_session("https://dashscope.aliyuncs.com/api/v1").verify is True
