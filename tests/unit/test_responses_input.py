"""The Responses door's request mapping: input items, tools, reasoning, text.format, the fields agents
send, and what is refused (each a 400 naming the field)."""

from __future__ import annotations

import pytest

from core.config import Config
from core.errors import InvalidRequest
from core.models import ModelRules
from handlers.responses.parsing import parse_responses_request

CONFIG = Config(dashscope_api_key="sk-test")
RULES = ModelRules.from_config(CONFIG)


def parse(previous=None, **body):
    return parse_responses_request({"model": "qwen-plus", **body}, CONFIG, RULES, previous)


def test_a_string_input_with_instructions():
    parsed = parse(input="hi", instructions="Be brief.", max_output_tokens=10, temperature=2, top_p=0.5)
    assert parsed.call.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert {k: parsed.call.parameters[k] for k in ("max_tokens", "temperature", "top_p")} == {
        "max_tokens": 10, "temperature": 1.99, "top_p": 0.5}
    assert parsed.store is True and parsed.response_id.startswith("resp_")


def test_items_become_dashscope_messages():
    parsed = parse(model="qwen3.6-plus", input=[
        {"role": "developer", "content": "rules"},
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "what is this?"},
            {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "thinking"}]},
        {"type": "message", "role": "assistant", "id": "msg_1", "content": [{"type": "output_text", "text": "Let me look."}]},
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{\"q\": 1}"},
        {"type": "function_call", "call_id": "call_2", "name": "other", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "found"},
        {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "none"}]},
    ])
    system, user, assistant, first, second = parsed.call.messages
    assert system == {"role": "system", "content": "rules"}
    assert user["content"] == [{"text": "what is this?"}, {"image": "https://example.com/a.png"}]
    assert assistant["content"] == [{"text": "Let me look."}]
    assert [call["id"] for call in assistant["tool_calls"]] == ["call_1", "call_2"]
    assert first == {"role": "tool", "content": "found", "tool_call_id": "call_1", "name": "lookup"}
    assert second["name"] == "other" and second["content"] == "none"


def test_previous_conversation_comes_first():
    previous = {"conversation": [{"role": "user", "content": "a"}, {"type": "message", "role": "assistant", "content": [
        {"type": "output_text", "text": "b", "annotations": []}]}]}
    parsed = parse(previous, input="c")
    assert [m["content"] for m in parsed.call.messages] == ["a", "b", "c"]
    assert parsed.history[-1] == {"type": "message", "role": "user", "content": "c"}


def test_tools_tool_choice_and_namespaces():
    function = {"type": "function", "name": "f", "strict": True, "parameters": {"type": "object", "properties": {}}}
    namespace = {"type": "namespace", "name": "agents", "tools": [{"type": "function", "name": "spawn"}]}
    parsed = parse(input="hi", tools=[function, namespace], tool_choice={"type": "function", "name": "f"},
                   parallel_tool_calls=False)
    assert parsed.call.parameters["tools"] == [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "spawn"}}]
    assert parsed.call.parameters["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert parsed.call.parameters["parallel_tool_calls"] is False
    assert parsed.namespaces == {"spawn": "agents"}


def test_web_search_is_dashscopes_search_unless_live_access_is_off():
    on = parse(input="news", tools=[{"type": "web_search", "search_context_size": "high"}]).call.parameters
    assert on["enable_search"] is True and on["search_options"]["search_strategy"] == "max"
    assert on["search_options"]["enable_citation"] is True
    off = parse(input="news", tools=[{"type": "web_search", "external_web_access": False}]).call.parameters
    assert "enable_search" not in off


def test_reasoning_effort_and_text_format():
    parsed = parse(model="qwen3.6-plus", input="hi", reasoning={"effort": "low", "summary": "auto"})
    assert parsed.call.parameters["enable_thinking"] is True and parsed.call.parameters["thinking_budget"] == 2048
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    parsed = parse(model="qwen3.6-plus", input="hi", text={"format": {"type": "json_schema", "name": "A", "schema": schema}})
    assert parsed.call.parameters["response_format"] == {"type": "json_schema", "json_schema": {"name": "A", "schema": schema}}
    assert parsed.call.parameters["enable_thinking"] is False  # JSON output: thinking off, as on /v1
    assert parse(input="hi", text={"format": {"type": "json_object"}}).call.parameters["response_format"] == {"type": "json_object"}


def test_what_agents_send_is_accepted():
    parse(input="hi", include=["reasoning.encrypted_content"], prompt_cache_key="k", client_metadata={"a": "b"},
          safety_identifier="u", service_tier="auto", truncation="disabled", store=False, background=False,
          stream=True, stream_options={"include_obfuscation": False}, metadata={"k": "v"}, user="u")


@pytest.mark.parametrize("body, param", [
    ({"tools": [{"type": "file_search"}]}, "tools[0].type"),
    ({"tools": [{"type": "computer_use_preview"}]}, "tools[0].type"),
    ({"tools": [{"type": "code_interpreter"}]}, "tools[0].type"),
    ({"background": True}, "background"),
    ({"frobnicate": 1}, "frobnicate"),
    ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}, "input[0].content[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]}, "input[0].content[0].image_url"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "/etc/passwd"}]}]},
     "input[0].content[0]"),
    ({"reasoning": {"effort": "extreme"}}, "reasoning.effort"),
    ({"text": {"format": {"type": "xml"}}}, "text.format.type"),
    ({"metadata": {"a": 1}}, "metadata"),
    ({"input": None}, "input"),
    ({"input": [{"type": "message", "role": {}, "content": "hi"}]}, "input[0].role"),
])
def test_what_cannot_be_served_is_a_400_naming_it(body, param):
    with pytest.raises(InvalidRequest) as raised:
        parse(**{"input": "hi", **body})
    assert raised.value.param == param


@pytest.mark.parametrize("body, named", [
    ({"input": ""}, "input"),
    ({"input": [{"role": "user", "content": "hi"}, {"role": "user", "content": ""}]}, "input[1]"),
    ({"input": [{"type": "function_call_output", "call_id": "c", "output": ""}]}, "input[0]"),
])
def test_an_empty_message_is_named_as_sent_not_as_the_message_it_became(body, named):
    with pytest.raises(InvalidRequest) as raised:
        parse(**{"input": "hi", **body})
    assert raised.value.param == named
    assert f"`{named}`" in raised.value.message and "messages[" not in raised.value.message


def test_an_error_in_the_input_after_a_stored_conversation_names_the_input_item():
    previous = {"conversation": [{"role": "user", "content": "a"}]}
    with pytest.raises(InvalidRequest) as raised:
        parse(previous, input=[{"role": "user", "content": "b"}, {"type": "item_reference", "id": "x"}])
    assert raised.value.param == "input[1].type"


def test_whole_number_floats_are_integers():
    assert parse(input="hi", max_output_tokens=100.0).call.parameters["max_tokens"] == 100


def test_empty_instructions_send_no_system_message():
    assert parse(input="hi", instructions="").call.messages == [{"role": "user", "content": "hi"}]
