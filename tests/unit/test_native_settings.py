"""The owner's account settings (DASHSCOPE_REGION, DASHSCOPE_WORKSPACE_ID), MAX_INPUT_TOKENS, and the
native door's and /v1/embeddings' body parsing."""

from __future__ import annotations

import base64
import struct

import pytest

from core.config import Config, ConfigError, parse_max_input_tokens
from core.errors import InvalidRequest
from core.upstream.tokens import check_input_tokens, input_texts, input_token_limit
from handlers.native.body import parse_native_embedding, parse_native_generation, parse_native_tokenization
from handlers.openai.embeddings_body import embeddings_answer, parse_embeddings_request
from core.types import Completion, GenerationCall

CONFIG = Config(dashscope_api_key="sk-x")


@pytest.mark.parametrize("region, url", [
    ("cn-beijing", "https://dashscope.aliyuncs.com/api/v1"),
    ("intl", "https://dashscope-intl.aliyuncs.com/api/v1"),
    ("AP-SOUTHEAST-1", "https://dashscope-intl.aliyuncs.com/api/v1"),
    ("us", "https://dashscope-us.aliyuncs.com/api/v1"),
])
def test_the_region_names_the_endpoint(region, url):
    assert Config.from_env({"DASHSCOPE_REGION": region}).dashscope_base_url == url


def test_an_explicit_base_url_wins_and_a_bad_region_or_workspace_stops_the_start():
    env = {"DASHSCOPE_REGION": "intl", "DASHSCOPE_HTTP_BASE_URL": "http://127.0.0.1:1/api/v1"}
    assert Config.from_env(env).dashscope_base_url == "http://127.0.0.1:1/api/v1"
    assert Config.from_env({}).dashscope_base_url is None and Config.from_env({}).dashscope_workspace_id is None
    with pytest.raises(ConfigError, match="DASHSCOPE_REGION"):
        Config.from_env({"DASHSCOPE_REGION": "mars-1"})
    with pytest.raises(ConfigError, match="DASHSCOPE_WORKSPACE_ID"):
        Config.from_env({"DASHSCOPE_WORKSPACE_ID": "ws/../evil"})
    assert Config.from_env({"DASHSCOPE_WORKSPACE_ID": "llm-abc_1"}).dashscope_workspace_id == "llm-abc_1"


def test_max_input_tokens_forms():
    assert parse_max_input_tokens("") == ()
    assert parse_max_input_tokens("30000") == (("*", 30000),)
    limits = parse_max_input_tokens("qwen-plus=30000, qwen-max=8000,100")
    assert input_token_limit(limits, "qwen-max") == 8000 and input_token_limit(limits, "qwen-flash") == 100
    assert input_token_limit(parse_max_input_tokens("qwen-max=5"), "qwen-plus") is None
    for bad in ("many", "qwen-max=0", "qwen-max=-3", "=x"):
        with pytest.raises(ConfigError, match="MAX_INPUT_TOKENS"):
            parse_max_input_tokens(bad)


def test_the_input_counted_is_every_text():
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"image": "https://x/y.png"}, {"text": "你好？"}]},
                {"role": "assistant", "content": None, "tool_calls": []}]
    assert input_texts(messages, None) == ["be brief", "你好？"]
    call = GenerationCall("qwen-max", messages=[{"role": "user", "content": "你好？"}])
    assert check_input_tokens(call, (("qwen-max", 2),)) == {"input_tokens_counted": 2}
    assert check_input_tokens(call, (("qwen-plus", 1),)) == {}
    with pytest.raises(InvalidRequest, match=r"the input is 2 tokens long .* at most 1 for `qwen-max`") as refused:
        check_input_tokens(call, (("*", 1),))
    assert refused.value.status == 400 and refused.value.param == "messages"


def test_native_generation_bodies_get_no_defaults():
    body = b'{"model": "qwen-plus", "input": {"prompt": "hi"}, "parameters": {"top_p": 0.5}}'
    parsed = parse_native_generation(body, CONFIG, "text-generation", stream_requested=True)
    assert parsed.stream and parsed.call.parameters == {"top_p": 0.5} and parsed.call.prompt == "hi"
    for bad, needle in ((b"", "empty"), (b"[1]", "input"), (b'{"input": 1}', "input"),
                        (b'{"input": {"prompt": "x"}, "parameters": {"api_key": "k"}}', "api_key")):
        with pytest.raises(InvalidRequest, match=needle):
            parse_native_generation(bad, CONFIG, "text-generation", stream_requested=False)


def test_native_embedding_and_tokenizer_bodies():
    parsed = parse_native_embedding(b'{"model": "text-embedding-v4", "input": {"texts": "one"}, "parameters": {"dimension": 64}}')
    assert (parsed.call.texts, parsed.call.parameters, parsed.stream) == (["one"], {"dimension": 64}, False)
    for bad, needle in ((b'{"input": {"texts": ["a"]}}', "model"), (b'{"model": "m", "input": {"texts": []}}', "texts"),
                        (b'{"model": "m", "input": {"texts": ["a", " "]}}', r"texts\[1\]` is empty"),
                        (b'{"model": "m", "input": {"texts": ["a"]}, "parameters": {"dimension": "64"}}', "integer")):
        with pytest.raises(InvalidRequest, match=needle):
            parse_native_embedding(bad)
    tokens = parse_native_tokenization(b'{"input": {"messages": [{"role": "user", "content": "hi"}]}}', CONFIG)
    assert tokens.call.model == CONFIG.default_model
    with pytest.raises(InvalidRequest, match="one of them"):
        parse_native_tokenization(b'{"input": {"prompt": "a", "messages": []}}', CONFIG)


def test_openai_embeddings_request_and_answer():
    parsed = parse_embeddings_request({"model": "text-embedding-v4", "input": "hi", "dimensions": 64, "encoding_format": "base64"})
    assert parsed.call.texts == ["hi"] and parsed.call.parameters == {"dimension": 64}
    completion = Completion("rid", {"embeddings": [{"text_index": 1, "embedding": [0.5]}, {"text_index": 0, "embedding": [0.25, -1.0]}]},
                            {"total_tokens": 3})
    answer = embeddings_answer(completion, parsed)
    assert [item["index"] for item in answer["data"]] == [0, 1]
    assert struct.unpack("<2f", base64.b64decode(answer["data"][0]["embedding"])) == (0.25, -1.0)
    assert answer["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    for bad, needle in (({"model": "m", "input": [[1, 2]]}, "token arrays"), ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
                        ({"model": "m", "input": "x", "dimensions": True}, "dimensions"), ({"input": "x"}, "model"),
                        ({"model": "m", "input": "x", "extra": 1}, "extra")):
        with pytest.raises(InvalidRequest, match=needle):
            parse_embeddings_request(bad)
