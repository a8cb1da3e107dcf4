"""core/result_shapes.py (and core/openai_shapes.py), on chunks shaped like DashScope's captured wire traffic (docs/models.md)."""

from __future__ import annotations

from core.result_shapes import assemble, assembled_finish_reason, choices, chunk_reasoning, chunk_text, content_text
from core.openai_shapes import OpenAIDeltas, openai_choices, openai_usage


def chunk(message: dict, finish: str = "null", usage: dict | None = None, **choice: object) -> dict:
    return {
        "request_id": "req-1",
        "output": {"choices": [{"message": {"role": "assistant", **message}, "finish_reason": finish, **choice}]},
        "usage": usage or {},
    }


def usage(output: int, reasoning: int | None = None, **extra: object) -> dict:
    found = {"input_tokens": 10, "output_tokens": output, "total_tokens": 10 + output, **extra}
    if reasoning is not None:
        found["output_tokens_details"] = {"reasoning_tokens": reasoning}
    return found


# A thinking model on the text endpoint: reasoning first, then the answer (content "" meanwhile).
TEXT_THINKING = [
    chunk({"content": "", "reasoning_content": "嗯"}, usage=usage(1, 1)),
    chunk({"content": "", "reasoning_content": "，用户"}, usage=usage(2, 2)),
    chunk({"content": "Hello", "reasoning_content": ""}, usage=usage(3, 2)),
    chunk({"content": " there"}, finish="stop", usage=usage(4, 2)),
]
# The multimodal endpoint: list content, [] while thinking; one chunk carries both kinds.
MULTIMODAL_THINKING = [
    chunk({"content": [], "reasoning_content": "用户"}, usage=usage(1, 1)),
    chunk({"content": [{"text": "告别"}], "reasoning_content": "想"}, usage=usage(3, 2)),
    chunk({"content": [{"text": "杭州"}]}, finish="stop", usage=usage(4, 2)),
]
# Parallel tool calls in fragments (CAP single-generation-message-with-parallel-tools-sse).
WEATHER = "get_current_weather"
TOOL_FRAGMENTS = [
    chunk({"content": "", "tool_calls": [{"index": 0, "id": "call_29a8", "type": "function",
                                          "function": {"name": WEATHER, "arguments": "{\"location\": \""}}]},
          usage=usage(5)),
    chunk({"content": "", "tool_calls": [{"index": 0, "id": "", "type": "function",
                                          "function": {"arguments": "浙江省杭州市\"}"}}]}, usage=usage(9)),
    chunk({"content": "", "tool_calls": [{"index": 1, "id": "call_026e", "type": "function",
                                          "function": {"name": "get_current_weather", "arguments": "{\"location\":"}}]},
          usage=usage(14)),
    chunk({"content": "", "tool_calls": [{"index": 1, "id": "", "type": "function",
                                          "function": {"arguments": " \"上海市\"}"}}]}, finish="tool_calls",
          usage=usage(18)),
]


def test_content_text_whatever_the_shape() -> None:
    assert content_text("abc") == "abc"
    assert content_text([{"text": "a"}, {"image": "https://x/y.png"}, {"text": "b"}]) == "ab"
    assert content_text([]) == "" and content_text(None) == ""
    assert chunk_text(MULTIMODAL_THINKING[0]) == "" and chunk_text(MULTIMODAL_THINKING[1]) == "告别"
    assert chunk_reasoning(MULTIMODAL_THINKING[1]) == "想" and chunk_reasoning(TEXT_THINKING[3]) == ""
    legacy = {"request_id": "r", "output": {"text": "legacy", "finish_reason": "null"}, "usage": {}}
    assert chunk_text(legacy) == "legacy"


def test_assemble_a_text_thinking_stream() -> None:
    assert assemble(TEXT_THINKING) == {
        "request_id": "req-1",
        "output": {"choices": [{"finish_reason": "stop", "message": {
            "role": "assistant", "content": "Hello there", "reasoning_content": "嗯，用户"}}]},
        "usage": usage(4, 2),  # the last chunk's: DashScope's stream usage is a running total
    }


def test_assemble_a_multimodal_stream_keeps_list_content() -> None:
    result = assemble(MULTIMODAL_THINKING)
    message = result["output"]["choices"][0]["message"]
    assert message == {"role": "assistant", "content": [{"text": "告别杭州"}], "reasoning_content": "用户想"}
    assert assembled_finish_reason(result) == "stop"


def test_assemble_merges_tool_call_fragments_by_index() -> None:
    result = assemble(TOOL_FRAGMENTS)
    choice = result["output"]["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == ""
    assert choice["message"]["tool_calls"] == [
        {"index": 0, "id": "call_29a8", "type": "function",
         "function": {"name": "get_current_weather", "arguments": "{\"location\": \"浙江省杭州市\"}"}},
        {"index": 1, "id": "call_026e", "type": "function",
         "function": {"name": "get_current_weather", "arguments": "{\"location\": \"上海市\"}"}},
    ]
    assert result["usage"]["output_tokens"] == 18


def test_assemble_interleaved_fragments_and_a_name_repeated_on_later_fragments() -> None:
    chunks = [
        chunk({"content": "", "tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": "{"}},
                                             {"index": 0, "id": "a", "function": {"name": "f", "arguments": "["}}]}),
        chunk({"content": "", "tool_calls": [{"index": 0, "function": {"name": "f", "arguments": "]"}},
                                             {"index": 1, "function": {"arguments": "}"}}]}, finish="tool_calls"),
    ]
    calls = assemble(chunks)["output"]["choices"][0]["message"]["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("a", "f", "[]"), ("b", "g", "{}")
    ]


def test_a_stream_that_never_finished_assembles_without_a_finish_reason() -> None:
    result = assemble(TEXT_THINKING[:2])
    assert assembled_finish_reason(result) is None
    assert result["output"]["choices"][0]["finish_reason"] is None


def test_assemble_keeps_other_output_fields_and_logprobs() -> None:
    search = {"search_results": [{"index": 1, "title": "t", "url": "https://e.com"}]}
    first = chunk({"content": "A"}, logprobs={"content": [{"token": "A", "logprob": -0.1, "top_logprobs": []}]})
    first["output"]["search_info"] = search
    second = {"content": [{"token": "B", "logprob": -0.2, "top_logprobs": []}]}
    last = chunk({"content": "B"}, finish="stop", logprobs=second)
    last["output"]["search_info"] = None
    result = assemble([first, last])
    assert result["output"]["search_info"] == search
    assert result["output"]["choices"][0]["logprobs"] == {"content": [
        {"token": "A", "logprob": -0.1, "top_logprobs": []}, {"token": "B", "logprob": -0.2, "top_logprobs": []}]}


def test_assemble_several_choices_and_sum_their_usage() -> None:
    chunks = [
        chunk({"content": "one"}, index=0, usage=usage(1)),
        chunk({"content": "two"}, index=1, usage=usage(1)),
        chunk({"content": " more"}, index=0, finish="stop", usage=usage(2)),
        chunk({"content": " again"}, index=1, finish="length", usage=usage(3)),
    ]
    result = assemble(chunks)
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in result["output"]["choices"]] == [
        (0, "one more", "stop"), (1, "two again", "length")
    ]
    assert result["usage"] == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    shaped = openai_choices(result)
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in shaped] == [
        (0, "one more", "stop"), (1, "two again", "length")
    ]


def test_assemble_a_text_format_stream() -> None:
    chunks = [{"request_id": "r", "output": {"text": "a", "finish_reason": "null"}, "usage": usage(1)},
              {"request_id": "r", "output": {"text": "b", "finish_reason": "stop"}, "usage": usage(2)}]
    assert assemble(chunks) == {"request_id": "r", "output": {"text": "ab", "finish_reason": "stop"}, "usage": usage(2)}


def test_openai_usage_carries_reasoning_and_cached_tokens_only_when_reported() -> None:
    assert openai_usage(usage(4)) == {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
    assert openai_usage(usage(4, 2, prompt_tokens_details={"cached_tokens": 8})) == {
        "prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14,
        "completion_tokens_details": {"reasoning_tokens": 2}, "prompt_tokens_details": {"cached_tokens": 8},
    }
    assert openai_usage({}) == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def test_openai_deltas_for_tool_call_fragments() -> None:
    deltas = OpenAIDeltas()
    shaped = [deltas.delta(c["output"]["choices"][0]) for c in TOOL_FRAGMENTS]
    assert shaped == [
        {"tool_calls": [{"index": 0, "id": "call_29a8", "type": "function",
                         "function": {"name": "get_current_weather", "arguments": "{\"location\": \""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "浙江省杭州市\"}"}}]},
        {"tool_calls": [{"index": 1, "id": "call_026e", "type": "function",
                         "function": {"name": "get_current_weather", "arguments": "{\"location\":"}}]},
        {"tool_calls": [{"index": 1, "function": {"arguments": " \"上海市\"}"}}]},
    ]


def test_a_first_fragment_without_an_id_gets_one_and_empty_later_fragments_are_skipped() -> None:
    deltas = OpenAIDeltas()
    first = deltas.tool_call_deltas([{"index": 0, "id": "", "function": {"name": "f", "arguments": ""}}])
    assert first[0]["id"].startswith("call_") and first[0]["function"] == {"name": "f", "arguments": ""}
    assert deltas.tool_call_deltas([{"index": 0, "id": "", "function": {"arguments": ""}}]) == []
    # The same call index in another choice (n > 1) is another call.
    assert "id" in deltas.tool_call_deltas([{"index": 0, "id": "x", "function": {"name": "f"}}], choice_index=1)[0]


def test_openai_deltas_for_reasoning_then_content() -> None:
    deltas = OpenAIDeltas()
    shaped = [deltas.delta(c["output"]["choices"][0]) for c in MULTIMODAL_THINKING]
    assert shaped == [
        {"reasoning_content": "用户"}, {"reasoning_content": "想", "content": "告别"}, {"content": "杭州"}
    ]
    assert deltas.delta(TEXT_THINKING[0]["output"]["choices"][0]) == {"reasoning_content": "嗯"}


def test_chunk_choices_keep_each_choices_index_finish_reason_and_logprobs() -> None:
    deltas = OpenAIDeltas()
    logprobs = {"content": [{"token": "x", "logprob": -1.0, "top_logprobs": []}]}
    first = chunk({"content": "x"}, index=1, logprobs=logprobs)
    last = chunk({"content": ""}, index=1, finish="stop")
    assert deltas.chunk_choices(choices(first)) == [
        {"index": 1, "delta": {"content": "x"}, "finish_reason": None, "logprobs": logprobs}
    ]
    assert deltas.chunk_choices(choices(last)) == [{"index": 1, "delta": {}, "finish_reason": "stop"}]
    tool = deltas.chunk_choices(choices(TOOL_FRAGMENTS[3]))[0]
    assert tool["finish_reason"] == "tool_calls" and tool["delta"]["tool_calls"][0]["id"]  # index 1 is new here


def test_openai_choices_from_a_non_streamed_result() -> None:
    result = assemble(MULTIMODAL_THINKING)
    assert openai_choices(result) == [{
        "index": 0, "finish_reason": "stop", "logprobs": None,
        "message": {"role": "assistant", "content": "告别杭州", "reasoning_content": "用户想"},
    }]
    calls = openai_choices(assemble(TOOL_FRAGMENTS))[0]
    assert calls["message"]["content"] is None and calls["finish_reason"] == "tool_calls"
    assert calls["message"]["tool_calls"][1] == {
        "id": "call_026e", "type": "function",
        "function": {"name": "get_current_weather", "arguments": "{\"location\": \"上海市\"}"},
    }


def test_a_streams_logprobs_and_tool_arguments_are_extended_in_place_not_copied() -> None:
    # Assembling costs linear CPU: each chunk's entries are appended to the one list kept so far. A
    # new list per chunk (`so_far + new`) would copy every entry again: quadratic for a long stream.
    from core.result_shapes import _Choice

    choice = _Choice()
    entry = {"token": "a", "logprob": -0.1, "top_logprobs": []}
    fragment = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{"}}
    choice.add({"message": {"content": "a", "tool_calls": [fragment]}, "logprobs": {"content": [entry]}})
    logprobs, arguments = choice.logprobs, choice.arguments[0]
    for _ in range(3):
        later = {"index": 0, "function": {"arguments": "x"}}
        choice.add({"message": {"content": "a", "tool_calls": [later]}, "logprobs": {"content": [entry]}})
        assert choice.logprobs is logprobs and choice.arguments[0] is arguments
    result = choice.result(0)
    assert result["logprobs"] == {"content": [entry] * 4}
    assert result["message"]["tool_calls"][0]["function"] == {"name": "f", "arguments": "{xxx"}
