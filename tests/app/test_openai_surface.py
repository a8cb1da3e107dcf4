"""The rest of the OpenAI surface on /v1, passed to DashScope and mapped back (issue 12): several
choices, log probabilities, structured output, search and translation options, partial mode."""

from __future__ import annotations

import json

from tests.app.test_model_routing import sse_data, v1

HI = [{"role": "user", "content": "one two"}]


def test_n_choices_come_back_as_openai_choices(client, emulator):
    response = v1(client, model="qwen-plus", n=2, messages=HI)
    assert response.status_code == 200, response.get_json()
    assert emulator.last_request()["body"]["parameters"]["n"] == 2
    choices = response.get_json()["choices"]
    assert [choice["index"] for choice in choices] == [0, 1]
    assert all(choice["message"]["content"].endswith("You said: one two") for choice in choices)


def test_n_streamed_choices_each_get_their_deltas_and_finish(client):
    response = v1(client, model="qwen-plus", n=3, stream=True, stream_options={"include_usage": True}, messages=HI)
    chunks = sse_data(response.get_data(as_text=True))
    texts: dict[int, str] = {}
    finished = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            texts[choice["index"]] = texts.get(choice["index"], "") + (choice["delta"].get("content") or "")
            if choice["finish_reason"]:
                finished[choice["index"]] = choice["finish_reason"]
    assert finished == {0: "stop", 1: "stop", 2: "stop"}
    assert all(text.endswith("You said: one two") for text in texts.values()) and len(texts) == 3
    one = chunks[-1]["usage"]["completion_tokens"] // 3
    assert chunks[-1]["usage"]["completion_tokens"] == 3 * one  # summed over the choices


def test_logprobs_come_back_in_openais_shape(client, emulator):
    response = v1(client, model="qwen-plus", logprobs=True, top_logprobs=2, messages=HI)
    assert response.status_code == 200, response.get_json()
    assert emulator.last_request()["body"]["parameters"]["top_logprobs"] == 2
    content = response.get_json()["choices"][0]["logprobs"]["content"]
    assert "".join(entry["token"] for entry in content) == response.get_json()["choices"][0]["message"]["content"]
    assert len(content[0]["top_logprobs"]) == 2

    streamed = v1(client, model="qwen-plus", logprobs=True, stream=True, messages=HI)
    entries = [entry for chunk in sse_data(streamed.get_data(as_text=True)) for choice in chunk["choices"]
               for entry in (choice.get("logprobs") or {}).get("content", [])]
    assert "".join(entry["token"] for entry in entries).endswith("You said: one two")


def test_json_schema_and_other_dashscope_fields_pass_through(client, emulator):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    body = {
        "model": "qwen-plus", "messages": HI, "parallel_tool_calls": True,
        "response_format": {"type": "json_schema", "json_schema": {"name": "place", "schema": schema, "strict": True}},
        "search_options": {"forced_search": True}, "enable_search": True,
    }
    response = v1(client, **body)
    assert response.status_code == 200, response.get_json()
    sent = emulator.last_request()["body"]["parameters"]
    assert sent["response_format"] == body["response_format"] and sent["search_options"] == {"forced_search": True}
    assert sent["parallel_tool_calls"] is True
    assert set(json.loads(response.get_json()["choices"][0]["message"]["content"])) == {"city"}

    translation = {"source_lang": "auto", "target_lang": "English"}
    assert v1(client, model="qwen-mt-plus", translation_options=translation, messages=HI).status_code == 200
    assert emulator.last_request()["body"]["parameters"]["translation_options"] == translation


def test_partial_mode_passes_and_turns_default_thinking_off(client, emulator):
    messages = [{"role": "user", "content": "write a poem"}, {"role": "assistant", "content": "Roses", "partial": True}]
    response = v1(client, model="qwen3.5-plus", messages=messages)
    assert response.status_code == 200, response.get_json()
    sent = emulator.last_request()["body"]
    assert sent["input"]["messages"][-1] == {"role": "assistant", "content": [{"text": "Roses"}], "partial": True}
    assert sent["parameters"]["enable_thinking"] is False


def test_n_with_tools_is_refused_rather_than_silently_one(client, emulator):
    emulator.clear()
    tools = [{"type": "function", "function": {"name": "f"}}]
    response = v1(client, model="qwen-plus", n=2, tools=tools, messages=HI)
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "n"
    assert emulator.history == []
