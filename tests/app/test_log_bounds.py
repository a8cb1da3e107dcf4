"""What the function logs stays bounded and free of secrets: a huge end-user id is cut (marked) on the
log line, and a password in DASHSCOPE_HTTP_BASE_URL is masked in the start warning."""

from __future__ import annotations

import dataclasses

from app import create_app


def test_a_huge_end_user_id_is_cut_on_the_log_line_and_marked(client, logs):
    for field in ("user", "safety_identifier"):
        logs.clear()
        response = client.post("/v1/chat/completions", json={
            "model": "qwen-flash", "messages": [{"role": "user", "content": "hi"}], field: "u" * 500_000})
        assert response.status_code == 200
        (line,) = logs.requests()
        assert line["user"].startswith("u" * 256) and line["user"].endswith("(cut: 500000 chars)")
        assert len(line["user"]) < 300


def test_a_short_end_user_id_is_logged_whole(client, logs):
    logs.clear()
    client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "user": "alice-42"})
    assert logs.requests()[0]["user"] == "alice-42"


def test_a_password_in_the_upstream_url_is_masked_in_the_start_warning(config, logs):
    logs.clear()
    create_app(dataclasses.replace(config, dashscope_base_url="http://alice:s3cret-pw@127.0.0.1:1/api/v1"))
    text = logs.text()
    assert "s3cret-pw" not in text
    assert "http://alice:***@127.0.0.1:1/api/v1" in text
