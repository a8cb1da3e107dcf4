"""Odd but well-formed requests get an error naming what to change: a compressed body, a charset
other than UTF-8, an X-DashScope-SSE that means neither on nor off, a bad `max_completion_tokens`
(named as sent, not as the `max_tokens` it becomes)."""

from __future__ import annotations

import pytest


def test_a_compressed_body_is_a_415_naming_the_content_encoding(client, emulator):
    emulator.clear()
    response = client.post("/invoke", data=b"\x1f\x8b\x08\x00hi", headers={"Content-Encoding": "gzip"},
                           content_type="application/octet-stream")
    assert response.status_code == 415
    assert response.get_json()["code"] == "UnsupportedMediaType" and "Content-Encoding 'gzip'" in response.get_json()["message"]
    assert emulator.history == []


def test_a_body_in_another_charset_is_told_to_send_utf8(client):
    response = client.post("/invoke", data="你好".encode("gbk"), content_type="text/plain; charset=gbk")
    assert response.status_code == 400
    assert "send it as UTF-8" in response.get_json()["message"]


@pytest.mark.parametrize("value", ["maybe", "true", "1"])
def test_an_sse_header_that_means_neither_on_nor_off_is_a_400_naming_it(client, value):
    response = client.post("/invoke", data=b"hi", headers={"X-DashScope-SSE": value})
    assert response.status_code == 400
    assert "X-DashScope-SSE" in response.get_json()["message"]


def test_the_sse_header_still_switches_streams_on_and_off(client):
    assert client.post("/invoke", data=b"hi", headers={"X-DashScope-SSE": "enable"}).mimetype == "text/event-stream"
    assert client.post("/invoke", data=b"hi", headers={"X-DashScope-SSE": "disable"}).mimetype == "application/json"


@pytest.mark.parametrize("value", [0, -1, "5", True, 1.5])
def test_a_bad_max_completion_tokens_is_named_as_sent(client, value):
    messages = [{"role": "user", "content": "hi"}]
    v1 = client.post("/v1/chat/completions", json={"messages": messages, "max_completion_tokens": value})
    assert v1.status_code == 400
    error = v1.get_json()["error"]
    assert error["param"] == "max_completion_tokens" and "`max_completion_tokens`" in error["message"]
    invoke = client.post("/invoke", json={"messages": messages, "max_completion_tokens": value})
    assert invoke.status_code == 400 and "`max_completion_tokens`" in invoke.get_json()["message"]
