"""What MAX_INPUT_TOKENS counts (core/upstream/tokens.py): every text the call sends for the model to
read, and nothing that is not text for it (roles, part types, media, switches, numbers)."""

from __future__ import annotations

from core.upstream.tokens import count_input_tokens, sent_texts
from core.types import GenerationCall


def test_every_text_bearing_field_is_counted():
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "look"}, {"image": "data:image/png;base64,AAAA"},
                                     {"video": ["https://x/1.jpg", "https://x/2.jpg"], "fps": 2}]},
        {"role": "assistant", "content": "", "reasoning_content": "thinking",
         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\": 1}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "lookup", "content": "found", "extra": {"note": "kept"}},
    ]
    parameters = {
        "result_format": "message", "reasoning_effort": "low", "tool_choice": "auto", "temperature": 0.5,
        "enable_thinking": False, "stop": ["END"],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": "finds",
                                                     "parameters": {"properties": {"query_field": {"type": "string"}}}}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "shape", "schema": {"description": "said"}}},
        "translation_options": {"terms": [{"source": "猫", "target": "cat"}]},
    }
    texts = list(sent_texts(GenerationCall("qwen-plus", messages=messages, parameters=parameters)))
    for text in ("be brief", "look", "thinking", "call_1", "lookup", "{\"q\": 1}", "found", "kept", "END", "finds",
                 "query_field", "properties", "shape", "said", "猫", "cat"):
        assert text in texts, text
    # Not text the model reads: roles, part types, media, switches.
    for text in ("system", "user", "assistant", "tool", "text", "data:image/png;base64,AAAA", "https://x/1.jpg",
                 "message", "low", "auto"):
        assert text not in texts, text


def test_a_plain_call_counts_as_the_tokenizer_does():
    assert count_input_tokens(GenerationCall("qwen-plus", messages=[{"role": "user", "content": "你好？"}])) == 2
    prompt = GenerationCall("qwen-plus", prompt="你好？", parameters={"result_format": "text", "incremental_output": True})
    assert count_input_tokens(prompt) == 2
