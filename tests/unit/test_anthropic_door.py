"""The Anthropic door's mapping, pure: a Messages API body -> DashScope's call, DashScope's answer and
stream chunks -> Anthropic's message and events, errors in Anthropic's shape."""

from __future__ import annotations

import json

import pytest

from core.config import Config
from core.errors import InvalidRequest, ModelNotFound, Overloaded, UpstreamTimeout
from core.model_map import parse_model_map
from core.models import ModelRules
from core.types import Completion
from handlers.anthropic.answer import anthropic_usage, message
from handlers.anthropic.errors import anthropic_error_body, anthropic_error_status
from handlers.anthropic.events import AnthropicEvents
from handlers.anthropic.parse import parse_messages_request

CONFIG = Config(anthropic_model_map=parse_model_map("claude-*=qwen3.6-plus", "ANTHROPIC_MODEL_MAP"))
RULES = ModelRules.from_config(CONFIG)
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def parse(**body):
    return parse_messages_request({"model": "qwen-plus", "max_tokens": 100, **body}, CONFIG, RULES)


def test_system_blocks_text_tool_use_and_tool_results_become_dashscope_messages():
    parsed = parse(system=[{"type": "text", "text": "Be brief."}], messages=[
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                                          {"type": "text", "text": "Let me look."},
                                          {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {"c": "x"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
                                      "content": [{"type": "text", "text": "down"}]},
                                     {"type": "text", "text": "try again"}]},
    ])
    assert parsed.call.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "Let me look.",  # thinking sent back is dropped
         "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "w", "arguments": '{"c": "x"}'}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "Error: down", "name": "w"},
        {"role": "user", "content": "try again"},
    ]


def test_cache_control_on_blocks_reaches_dashscope_on_its_part():
    marker = {"type": "ephemeral"}
    parsed = parse(system=[{"type": "text", "text": "long rules", "cache_control": marker}],
                   messages=[{"role": "user", "content": "hi"}])
    assert parsed.call.messages[0]["content"] == [{"type": "text", "text": "long rules", "cache_control": marker}]


def test_images_become_urls_for_a_multimodal_model_and_a_400_for_a_text_model():
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    url = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    parsed = parse(model="qwen3.6-plus", messages=[{"role": "user", "content": [image, url, {"type": "text", "text": "?"}]}])
    assert parsed.call.messages[0]["content"] == [
        {"image": f"data:image/png;base64,{PNG}"}, {"image": "https://example.com/a.png"}, {"text": "?"}]
    with pytest.raises(InvalidRequest) as refused:
        parse(messages=[{"role": "user", "content": [image]}])
    assert refused.value.param == "messages[0].content[0]" and "qwen-plus" in refused.value.message


def test_tools_tool_choice_thinking_and_stop_sequences_map_to_dashscope():
    tool = {"name": "w", "description": "d", "input_schema": {"type": "object"}}
    parsed = parse(tools=[tool], tool_choice={"type": "any", "disable_parallel_tool_use": True},
                   stop_sequences=["END"], messages=[{"role": "user", "content": "hi"}])
    assert parsed.call.parameters["tools"] == [{"type": "function", "function": {
        "name": "w", "parameters": {"type": "object"}, "description": "d"}}]
    assert parsed.call.parameters["tool_choice"] == "required"
    assert parsed.call.parameters["parallel_tool_calls"] is False
    assert parsed.call.parameters["stop"] == ["END"]
    named = parse(tools=[tool], tool_choice={"type": "tool", "name": "w"}, messages=[{"role": "user", "content": "x"}])
    assert named.call.parameters["tool_choice"] == {"type": "function", "function": {"name": "w"}}
    thinking = parse(model="qwen3.6-plus", thinking={"type": "enabled", "budget_tokens": 2048},
                     messages=[{"role": "user", "content": "x"}])
    assert (thinking.call.parameters["enable_thinking"], thinking.call.parameters["thinking_budget"]) == (True, 2048)
    assert parse(model="qwen3.6-plus", thinking={"type": "disabled"},
                 messages=[{"role": "user", "content": "x"}]).call.parameters["enable_thinking"] is False
    coder = parse(model="qwen3-coder-flash", thinking={"type": "adaptive"}, messages=[{"role": "user", "content": "x"}])
    assert "enable_thinking" not in coder.call.parameters and coder.notes  # a coder model never thinks: noted


def test_fields_claude_code_sends_are_accepted_and_unknown_ones_refused():
    parsed = parse(context_management={"edits": []}, output_config={"effort": "high"}, metadata={"user_id": "u"},
                   messages=[{"role": "user", "content": "x"}, {"role": "system", "content": "late rules"}])
    assert parsed.call.messages[0] == {"role": "system", "content": "late rules"}
    assert parsed.log_fields()["user"] == "u"
    with pytest.raises(InvalidRequest) as unknown:
        parse(messages=[{"role": "user", "content": "x"}], frequency_penalty=1)
    assert unknown.value.param == "frequency_penalty"
    with pytest.raises(InvalidRequest) as no_max:
        parse_messages_request({"model": "qwen-plus", "messages": [{"role": "user", "content": "x"}]}, CONFIG, RULES)
    assert no_max.value.param == "max_tokens"


def test_claude_names_map_through_the_setting_or_are_a_404_naming_it():
    assert parse(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "x"}]).call.model == "qwen3.6-plus"
    with pytest.raises(ModelNotFound) as unmapped:
        parse_messages_request({"model": "claude-opus-4", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}]},
                               Config(), RULES)
    assert "ANTHROPIC_MODEL_MAP" in unmapped.value.message and anthropic_error_status(unmapped.value) == 404
    with pytest.raises(ValueError, match="retired"):
        parse_model_map("claude-*=qwen-turbo", "ANTHROPIC_MODEL_MAP")


def test_the_answer_has_thinking_text_and_tool_use_blocks_and_anthropics_usage():
    output = {"choices": [{"finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": "ok", "reasoning_content": "thought",
        "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "w", "arguments": '{"c": 1}'}}]}}]}
    usage = {"input_tokens": 100, "output_tokens": 7, "prompt_tokens_details": {"cached_tokens": 60}}
    answer = message(Completion("req-1", output, usage), "claude-x")
    assert [block["type"] for block in answer["content"]] == ["thinking", "text", "tool_use"]
    assert answer["content"][2] == {"type": "tool_use", "id": "toolu_9", "name": "w", "input": {"c": 1}}
    assert answer["stop_reason"] == "tool_use" and answer["model"] == "claude-x"
    assert answer["usage"] == {"input_tokens": 40, "output_tokens": 7, "cache_creation_input_tokens": 0,
                               "cache_read_input_tokens": 60}
    assert anthropic_usage({"input_tokens": 10, "prompt_tokens_details": {"cache_creation_input_tokens": 10}}) == {
        "input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 0}


def chunk(finish=None, **message_fields):
    return Completion("req-2", {"choices": [{"finish_reason": finish or "null", "message": message_fields}]},
                      {"input_tokens": 5, "output_tokens": 3})


def test_stream_events_open_and_close_each_block_in_order():
    chunks = [chunk(reasoning_content="hm"), chunk(content="Hel"), chunk(content="lo"),
              chunk(tool_calls=[{"index": 0, "id": "call_1", "function": {"name": "w", "arguments": ""}}]),
              chunk(finish="tool_calls", tool_calls=[{"index": 0, "id": "", "function": {"arguments": "{}"}}])]
    events = [text.split("\n")[0].removeprefix("event: ") for text in AnthropicEvents("m", anthropic_error_body).events(iter(chunks))]
    assert events == ["message_start", "ping",
                      "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                      "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                      "content_block_start", "content_block_delta", "content_block_stop",
                      "message_delta", "message_stop"]
    last = list(AnthropicEvents("m", anthropic_error_body).events(iter(chunks)))
    delta = json.loads(last[-2].split("data: ", 1)[1])
    assert delta["delta"]["stop_reason"] == "tool_use" and delta["usage"]["output_tokens"] == 3


@pytest.mark.parametrize(("error", "status", "kind"), [
    (InvalidRequest("bad"), 400, "invalid_request_error"), (Overloaded(), 429, "rate_limit_error"),
    (UpstreamTimeout(), 504, "api_error"),
])
def test_errors_have_anthropics_shape(error, status, kind):
    assert anthropic_error_status(error) == status
    assert anthropic_error_body(error) == {"type": "error", "error": {"type": kind, "message": error.message}}
    event = AnthropicEvents("m", anthropic_error_body).error_event(error)
    assert event.startswith("event: error\ndata: ")


def test_a_tool_results_image_moves_to_the_user_turn_and_a_prefill_is_partial_mode():
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/shot.png"}}
    parsed = parse(model="qwen3.6-plus", messages=[
        {"role": "user", "content": "look"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_2", "name": "screenshot", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": [image]}]},
        {"role": "assistant", "content": "It shows"},
    ])
    assert parsed.call.messages[2] == {"role": "tool", "tool_call_id": "toolu_2", "content": "(no output)",
                                       "name": "screenshot"}
    assert parsed.call.messages[3] == {"role": "user", "content": [{"image": "https://example.com/shot.png"}]}
    assert parsed.call.messages[4] == {"role": "assistant", "content": [{"text": "It shows"}], "partial": True}


def test_an_empty_text_block_says_nothing_and_is_not_sent():
    parsed = parse(system=[{"type": "text", "text": ""}], messages=[
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "again"}])
    assert parsed.call.messages == [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]


def test_whole_number_floats_are_integers():
    parsed = parse(max_tokens=100.0, thinking={"type": "enabled", "budget_tokens": 50.0},
                   messages=[{"role": "user", "content": "hi"}])
    assert parsed.call.parameters["max_tokens"] == 100 and parsed.call.parameters["thinking_budget"] == 50
