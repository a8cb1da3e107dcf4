"""LOG_CONTENT on the native door: a stream DashScope sends cumulative (the caller asked for no
incremental_output, DashScope's default) is logged as the reply once, not as its events added up."""

from __future__ import annotations

import dataclasses

from app import create_app

REPLY = "This is the DashScope emulator (qwen-plus). You said: one two three"


def test_a_cumulative_native_stream_logs_the_reply_once(config, logs):
    client = create_app(dataclasses.replace(config, log_content=True)).test_client()
    logs.clear()
    streamed = client.post("/api/v1/services/aigc/text-generation/generation", headers={"X-DashScope-SSE": "enable"},
                           json={"model": "qwen-plus", "input": {"prompt": "one two three"}})
    assert streamed.status_code == 200 and streamed.get_data(as_text=True).count("event:result") > 2
    (line,) = logs.requests()
    assert line["door"] == "native" and line["reply"] == REPLY
