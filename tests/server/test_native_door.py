"""The DashScope-native door: the official `dashscope` SDK, unchanged, pointed at the function under
gunicorn (base address `<function>/api/v1`, api_key = the function's INVOKE_TOKEN), with the emulator
behind it; and the `openai` client on /v1/embeddings."""

from __future__ import annotations

import asyncio
import base64
import struct
from typing import Iterator

import dashscope
import pytest
import requests
from dashscope import AioGeneration, Generation, MultiModalConversation, TextEmbedding, Tokenization
from dashscope.api_entities.aio_session import close_shared_aio_session
from dashscope.tokenizers.tokenizer import get_tokenizer
from openai import OpenAI

from scripts.emulator.embeddings import vector
from scripts.fc_process import start_like_fc, stop
from tests.conftest import FAKE_KEY, function_env

pytestmark = pytest.mark.server

TOKEN = "native-door-token-1234"
OWNER_WORKSPACE = "ws-owner-0001"
REPLY = "This is the DashScope emulator (qwen-plus). You said: "


@pytest.fixture(scope="module")
def function(emulator) -> Iterator[str]:
    env = function_env(
        emulator, INVOKE_TOKEN=TOKEN, DASHSCOPE_WORKSPACE_ID=OWNER_WORKSPACE, MAX_INPUT_TOKENS="qwen-max=8"
    )
    process, url = start_like_fc(env)
    yield url
    stop(process)


@pytest.fixture
def base(function, emulator) -> str:
    emulator.clear()
    return f"{function}/api/v1"


def ask(base: str, text: str, **kwargs):
    return Generation.call(model="qwen-plus", messages=[{"role": "user", "content": text}], api_key=TOKEN,
                           base_address=base, **kwargs)


def test_generation_answers_as_dashscope_does(base, emulator):
    response = ask(base, "hello", result_format="message")
    assert response.status_code == 200
    assert response.output.choices[0].message.content == REPLY + "hello"
    # DashScope's own request id and usage, passed through.
    (seen,) = emulator.history
    assert response.request_id == seen["request_id"]
    assert response.usage.input_tokens == 1 and response.usage.total_tokens == response.usage.output_tokens + 1
    # Nothing the caller did not ask for: no result_format or incremental_output of the function's own.
    assert seen["body"]["parameters"] == {"result_format": "message"}


def test_a_plain_generation_keeps_dashscopes_defaults(base, emulator):
    response = Generation.call(model="qwen-plus", prompt="hi there", api_key=TOKEN, base_address=base)
    assert response.status_code == 200
    assert response.output.text == REPLY + "hi there"
    assert "result_format" not in emulator.history[-1]["body"].get("parameters", {})


def test_streams_incremental_and_cumulative(base, emulator):
    chunks = list(ask(base, "one two three", stream=True, incremental_output=True, result_format="message"))
    assert all(chunk.status_code == 200 for chunk in chunks) and len(chunks) > 2
    assert "".join(chunk.output.choices[0].message.content for chunk in chunks) == REPLY + "one two three"
    assert chunks[-1].output.choices[0].finish_reason == "stop"
    assert emulator.history[-1]["stream"] is True
    # Without incremental_output, DashScope's default: each event carries the whole text so far.
    texts = [chunk.output.text for chunk in Generation.call(model="qwen-plus", prompt="one two three", api_key=TOKEN,
                                                            base_address=base, stream=True)]
    assert texts[-1] == REPLY + "one two three"
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))


@pytest.mark.parametrize("result_format", ["text", "message"])
def test_a_stream_of_several_choices_ends_when_each_has_finished(base, result_format):
    chunks = list(Generation.call(model="qwen-plus", prompt="one two", api_key=TOKEN, base_address=base, stream=True,
                                  incremental_output=True, n=2, result_format=result_format))
    assert all(chunk.status_code == 200 for chunk in chunks), [chunk.code for chunk in chunks]
    if result_format == "text":
        # The text format names no choice: one finished packet per choice.
        assert [chunk.output.finish_reason for chunk in chunks if chunk.output.finish_reason != "null"] == ["stop"] * 2
    else:
        finished = {chunk.output.choices[0].index for chunk in chunks if chunk.output.choices[0].finish_reason != "null"}
        assert finished == {0, 1}


def test_the_raw_stream_is_dashscopes_sse(base):
    response = requests.post(
        f"{base}/services/aigc/text-generation/generation",
        json={"model": "qwen-plus", "input": {"prompt": "hi"}, "parameters": {"incremental_output": True}},
        headers={"Authorization": f"Bearer {TOKEN}", "X-DashScope-SSE": "enable"},
        timeout=30,
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    first = response.text.split("\n\n")[0].splitlines()
    assert first[:3] == ["id:1", "event:result", ":HTTP_STATUS/200"] and first[3].startswith('data:{"output":')


def test_an_error_mid_stream_is_dashscopes_error_event(base):
    text = "a b c d e f g [[emulate fail_after=1 code=Throttling.RateQuota]]"
    chunks = list(ask(base, text, stream=True, incremental_output=True))
    assert chunks[0].status_code == 200
    # The SDK reads no status from an error event (DashScope's own events do the same to it): the code survives.
    assert chunks[-1].code == "Throttling.RateQuota" and chunks[-1].status_code != 200
    raw = requests.post(f"{base}/services/aigc/text-generation/generation", timeout=30,
                        json={"model": "qwen-plus", "input": {"prompt": text}, "parameters": {"incremental_output": True}},
                        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "text/event-stream"})
    last = raw.text.strip().split("\n\n")[-1].splitlines()
    assert last[1:3] == ["event:error", ":HTTP_STATUS/429"] and '"code":"Throttling.RateQuota"' in last[3]


def test_an_upstream_error_keeps_its_status_and_dashscopes_shape(base):
    response = ask(base, "hi [[emulate status=429 code=Throttling.RateQuota]]")
    assert (response.status_code, response.code) == (429, "Throttling.RateQuota")
    raw = requests.post(f"{base}/services/aigc/text-generation/generation",
                        json={"model": "qwen-plus", "input": {"prompt": "x"}, "parameters": {"temperature": "hot"}},
                        headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert raw.status_code == 400 and set(raw.json()) == {"code", "message", "request_id"}
    assert "temperature" in raw.json()["message"]


@pytest.mark.parametrize("limit, status, code", [("rpm", 429, "Throttling.RateQuota"), ("tpm", 429, "Throttling.AllocationQuota"),
                                                 ("free_tier", 403, "AllocationQuota.FreeTierOnly")])
def test_dashscopes_limits_reach_the_sdk_as_dashscope_sent_them_and_at_once(base, emulator, limit, status, code):
    response = ask(base, f"hi [[emulate limit={limit}]]")
    assert (response.status_code, response.code) == (status, code)
    assert response.message.startswith(("Requests rate limit exceeded", "Allocated quota exceeded", "The free tier"))
    assert ("per-minute limit" if status == 429 else "waiting will not help") in response.message
    assert len(emulator.history) == 1


def test_a_streamed_call_refused_under_a_limit_is_one_error_response_to_the_sdk(base, emulator):
    (response,) = list(ask(base, "hi [[emulate limit=tpm]]", stream=True, incremental_output=True))
    assert (response.status_code, response.code) == (429, "Throttling.AllocationQuota")
    assert "tokens-per-minute limit (TPM" in response.message and len(emulator.history) == 1


def test_async_generation(base):
    async def both():
        whole = await AioGeneration.call(model="qwen-plus", prompt="async hi", api_key=TOKEN, base_address=base)
        stream = await AioGeneration.call(model="qwen-plus", prompt="async hi", api_key=TOKEN, base_address=base,
                                          stream=True, incremental_output=True)
        chunks = [chunk async for chunk in stream]
        await close_shared_aio_session()  # the SDK's shared aiohttp session, bound to this event loop
        return whole, chunks

    whole, chunks = asyncio.run(both())
    assert whole.status_code == 200 and whole.output.text == REPLY + "async hi"
    assert "".join(chunk.output.text for chunk in chunks) == REPLY + "async hi"


def test_multimodal_conversation_with_an_image_url(base, emulator):
    image = "https://example.com/cat.png"
    response = MultiModalConversation.call(
        model="qwen3.6-plus", messages=[{"role": "user", "content": [{"image": image}, {"text": "what is it"}]}],
        api_key=TOKEN, base_address=base,
    )
    assert response.status_code == 200
    # The multimodal endpoint answers a list of parts, and the call reached that endpoint.
    (part,) = response.output.choices[0].message.content
    assert part["text"].endswith("You said: what is it (shown: 1 image)")
    (seen,) = emulator.history
    assert seen["path"].endswith("/multimodal-generation/generation")
    assert seen["body"]["input"]["messages"][0]["content"][0] == {"image": image}
    assert emulator.uploads == []


def test_tokenization_is_answered_here(base, emulator):
    response = Tokenization.call(model="qwen-plus", messages=[{"role": "user", "content": "你好？"}], api_key=TOKEN,
                                 base_address=base)
    assert response.status_code == 200
    assert response.output == {"token_ids": [108386, 11319], "tokens": ["你好", "？"]}
    assert response.usage == {"input_tokens": 2}
    text = "Count these words, please: 一二三"
    counted = Tokenization.call(model="qwen-plus", prompt=text, api_key=TOKEN, base_address=base)
    assert counted.usage["input_tokens"] == len(get_tokenizer("qwen-plus").encode(text))
    # The tokenizer's input is bounded like a call's: qwen-max takes at most 8 tokens here (MAX_INPUT_TOKENS).
    bounded = Tokenization.call(model="qwen-max", prompt=text, api_key=TOKEN, base_address=base)
    assert bounded.status_code == 400 and "MAX_INPUT_TOKENS" in bounded.message
    assert emulator.history == []  # no upstream call, no cost
    refused = Tokenization.call(model="deepseek-v3", prompt="hi", api_key=TOKEN, base_address=base)
    assert refused.status_code == 400 and "Qwen models only" in refused.message


def test_text_embedding_goes_to_dashscope(base, emulator):
    response = TextEmbedding.call(model="text-embedding-v4", input=["apple", "pear"], dimension=64, api_key=TOKEN,
                                  base_address=base)
    assert response.status_code == 200
    embeddings = response.output["embeddings"]
    assert [item["embedding"] for item in embeddings] == [vector("text-embedding-v4", t, 64) for t in ("apple", "pear")]
    assert response.request_id == emulator.history[-1]["request_id"]
    bad = TextEmbedding.call(model="text-embedding-v4", input="apple", dimension=7, api_key=TOKEN, base_address=base)
    assert bad.status_code == 400 and "dimension" in bad.message


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_openai_embeddings(function, emulator, encoding_format):
    client = OpenAI(api_key=TOKEN, base_url=f"{function}/v1")
    result = client.embeddings.create(model="text-embedding-v4", input=["apple", "pear"], dimensions=64,
                                      encoding_format=encoding_format)
    expected = [vector("text-embedding-v4", t, 64) for t in ("apple", "pear")]
    got = [item.embedding for item in result.data]
    if encoding_format == "base64":
        # The client hands base64 back as it came: the float32 bytes of each vector.
        got = [list(struct.unpack("<64f", base64.b64decode(item))) for item in got]
    assert [item.index for item in result.data] == [0, 1]
    assert got == [pytest.approx(values, abs=1e-6) for values in expected]
    assert result.usage.prompt_tokens == 2 and result.model == "text-embedding-v4"


def test_the_default_openai_embeddings_call_decodes_to_floats(function):
    # No encoding_format: the openai package asks for base64 and decodes it itself.
    result = OpenAI(api_key=TOKEN, base_url=f"{function}/v1").embeddings.create(model="text-embedding-v4", input="pear")
    assert result.data[0].embedding == pytest.approx(vector("text-embedding-v4", "pear", 1024), abs=1e-6)


def test_a_wrong_token_is_refused_in_dashscopes_shape_and_nothing_goes_upstream(base, emulator):
    for call in (
        lambda: Generation.call(model="qwen-plus", prompt="hi", api_key="wrong", base_address=base),
        lambda: next(iter(Generation.call(model="qwen-plus", prompt="hi", api_key="wrong", base_address=base, stream=True))),
        lambda: TextEmbedding.call(model="text-embedding-v4", input="a", api_key="wrong", base_address=base),
        lambda: Tokenization.call(model="qwen-plus", prompt="a", api_key="wrong", base_address=base),
    ):
        response = call()
        assert (response.status_code, response.code) == (401, "InvalidToken")
        assert response.request_id
    assert emulator.history == []


def test_the_callers_token_never_goes_upstream_and_the_key_never_comes_back(base, emulator):
    headers = {"Authorization": f"Bearer {TOKEN}", "X-DashScope-WorkSpace": "ws-caller",
               "X-DashScope-DataInspection": "enable", "X-DashScope-Plugin": '{"x": {}}'}
    answers = [
        requests.post(f"{base}/services/aigc/text-generation/generation", headers=headers, timeout=30,
                      json={"model": "qwen-plus", "input": {"prompt": "hi"}}),
        requests.post(f"{base}/services/aigc/text-generation/generation", headers={**headers, "X-DashScope-SSE": "enable"},
                      json={"model": "qwen-plus", "input": {"prompt": "hi"}}, timeout=30),
        requests.post(f"{base}/services/embeddings/text-embedding/text-embedding", headers=headers, timeout=30,
                      json={"model": "text-embedding-v4", "input": {"texts": ["hi"]}}),
        requests.post(f"{base}/services/aigc/text-generation/generation", headers=headers, timeout=30,
                      json={"model": "qwen-plus", "input": {"prompt": "hi [[emulate status=500]]"}}),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 500]
    for answer in answers:
        assert FAKE_KEY not in answer.text and FAKE_KEY not in str(answer.headers)
    assert len(emulator.history) >= 4
    for seen in emulator.history:
        assert seen["api_key"] == FAKE_KEY
        assert TOKEN not in str(seen["headers"]) and TOKEN not in str(seen["body"])
        # Headers that steer DashScope are the owner's settings, never the caller's.
        assert seen["headers"].get("X-Dashscope-Workspace") == OWNER_WORKSPACE
        assert "X-Dashscope-Datainspection" not in seen["headers"] and "X-Dashscope-Plugin" not in seen["headers"]


def test_max_input_tokens_refuses_before_any_upstream_call(base, emulator):
    long_text = "one two three four five six seven eight nine ten"
    response = Generation.call(model="qwen-max", prompt=long_text, api_key=TOKEN, base_address=base)
    assert response.status_code == 400
    assert "10 tokens" in response.message and "at most 8" in response.message and "MAX_INPUT_TOKENS" in response.message
    assert emulator.history == []
    assert Generation.call(model="qwen-max", prompt="one two", api_key=TOKEN, base_address=base).status_code == 200
    # Another model has no limit here.
    assert ask(base, long_text).status_code == 200


def test_local_files_are_refused(base, emulator, tmp_path, monkeypatch):
    # The SDK asks for an upload policy at its global base URL (what DASHSCOPE_HTTP_BASE_URL sets).
    monkeypatch.setattr(dashscope, "base_http_api_url", base)
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG")
    with pytest.raises(Exception, match="does not take file uploads"):
        MultiModalConversation.call(model="qwen3.6-plus", api_key=TOKEN, base_address=base,
                                    messages=[{"role": "user", "content": [{"image": str(picture)}, {"text": "hi"}]}])
    assert emulator.history == [] and emulator.uploads == []


def test_health_names_the_doors(function):
    assert requests.get(f"{function}/health", timeout=10).json()["doors"] == ["invoke", "openai", "dashscope-native"]
