"""The emulator itself, driven by the real dashscope SDK over a socket (Generation, AioGeneration,
MultiModalConversation, TextEmbedding); the openai client against its compatible mode is in
test_emulator_openai.py. What the function's tests rely on has to behave as DashScope does, or they
prove nothing."""

from __future__ import annotations

import asyncio
import http.client
import json
import math

import dashscope
import pytest

from scripts.dashscope_emulator import Emulator
from scripts.emulator.directives import count_tokens
from scripts.emulator.models import STREAM_ONLY_MESSAGE, THINKING_NOT_STREAMED_MESSAGE

from tests.app.conftest import EMULATOR_KEY as KEY

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
PNG_1x1 = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def user(*parts: dict | str | list) -> list[dict]:
    """One user message: a string, DashScope parts, or a list of OpenAI parts."""
    content = parts[0] if len(parts) == 1 and isinstance(parts[0], (str, list)) else list(parts)
    return [{"role": "user", "content": content}]


# -- keep-alive ------------------------------------------------------------------------------------
def test_connections_are_kept_alive_across_json_and_streamed_answers(strict):
    connection = http.client.HTTPConnection("127.0.0.1", strict.port, timeout=10)
    body = json.dumps({"model": "qwen-plus", "input": {"prompt": "keep me alive " * 10}})
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    seen_from = set()
    for stream in (False, True, False, True):
        connection.request("POST", "/api/v1/services/aigc/text-generation/generation", body,
                           {**headers, **({"X-DashScope-SSE": "enable"} if stream else {})})
        response = connection.getresponse()
        text = response.read().decode()  # a chunked body reads to its end only if it is framed right
        assert response.status == 200
        assert response.getheader("Connection") != "close"
        assert response.version == 11
        if stream:
            assert response.getheader("Transfer-Encoding") == "chunked"
            last_event = json.loads(text.rsplit("data:", 1)[1])
            assert last_event["output"]["finish_reason"] == "stop"
        else:
            assert int(response.getheader("Content-Length")) == len(text.encode())
        seen_from.add(connection.sock.getsockname())
    assert len(seen_from) == 1, "each answer closed its connection"
    connection.close()


def test_a_client_asking_to_close_gets_its_connection_closed(strict):
    connection = http.client.HTTPConnection("127.0.0.1", strict.port, timeout=10)
    connection.request("GET", "/_emulator/health", headers={"Connection": "close"})
    response = connection.getresponse()
    assert response.getheader("Connection") == "close"
    assert response.read() and response.will_close


def test_the_async_sdk_streams_over_kept_alive_connections(sdk):
    async def stream() -> list:
        chunks = await dashscope.AioGeneration.call(
            model="qwen-plus", prompt="async please", stream=True, incremental_output=True,
        )
        received = [chunk async for chunk in chunks]
        # The SDK keeps one aiohttp session per event loop; closed here, inside the loop, so that no
        # "Unclosed client session" is printed when the interpreter exits.
        from dashscope.api_entities.aio_session import close_shared_aio_session

        await close_shared_aio_session()
        return received

    chunks = asyncio.run(stream())
    assert chunks[-1].output.finish_reason == "stop"
    assert "".join(chunk.output.text for chunk in chunks).endswith("You said: async please")


# -- text generation: thinking ---------------------------------------------------------------------
def test_a_thinking_stream_sends_reasoning_before_the_answer_with_reasoning_tokens(sdk):
    chunks = list(dashscope.Generation.call(
        model="qwen-plus", messages=user("why is the sky blue?"), result_format="message",
        enable_thinking=True, stream=True, incremental_output=True,
    ))
    assert all(chunk.status_code == 200 for chunk in chunks)
    messages = [chunk.output.choices[0].message for chunk in chunks]
    kinds = ["reasoning" if m.get("reasoning_content") else "content" if m.get("content") else "-" for m in messages]
    assert kinds.index("content") > 0 and "reasoning" not in kinds[kinds.index("content"):]
    reasoning = "".join(m.get("reasoning_content") or "" for m in messages)
    answer = "".join(m.get("content") or "" for m in messages)
    assert "why is the sky blue?" in reasoning and answer.startswith("This is the DashScope emulator (qwen-plus)")
    usage = chunks[-1].usage
    assert chunks[-1].output.choices[0].finish_reason == "stop"
    assert usage["output_tokens_details"]["reasoning_tokens"] == count_tokens(reasoning) > 0
    assert usage["output_tokens"] == count_tokens(reasoning) + count_tokens(answer)
    assert sdk.last_request()["body"]["parameters"]["enable_thinking"] is True


def test_a_model_that_does_not_think_sends_no_reasoning_fields(sdk):
    response = dashscope.Generation.call(model="qwen-plus", messages=user("hi"), result_format="message")
    assert "reasoning_content" not in response.output.choices[0].message
    assert "output_tokens_details" not in response.usage


@pytest.mark.parametrize("model, parameters, message", [
    ("qwen3-next-80b-a3b-thinking", {}, STREAM_ONLY_MESSAGE),
    ("qwen3-32b", {}, THINKING_NOT_STREAMED_MESSAGE),  # open-source Qwen3 thinks by default
    ("qwen-plus", {"enable_thinking": True}, THINKING_NOT_STREAMED_MESSAGE),
])
def test_stream_only_models_refuse_a_non_streaming_call(sdk, model, parameters, message):
    response = dashscope.Generation.call(model=model, messages=user("hi"), **parameters)
    assert (response.status_code, response.code, response.message) == (400, "InvalidParameter", message)


def test_a_thinking_model_answers_non_streaming_once_thinking_is_off_or_it_allows_it(sdk):
    assert dashscope.Generation.call(model="qwen3-32b", messages=user("hi"), enable_thinking=False).status_code == 200
    response = dashscope.Generation.call(model="deepseek-r1", messages=user("hi"))
    assert response.status_code == 200
    assert response.output.choices[0].message["reasoning_content"]


# -- endpoints -------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["qwen3-vl-plus", "qwen3.5-plus", "qwen3-omni-flash", "qwen3-vl-235b-a22b-thinking"])
def test_a_multimodal_model_on_the_text_endpoint_is_a_url_error(sdk, model):
    response = dashscope.Generation.call(model=model, messages=user("hi"), stream=False)
    assert (response.status_code, response.code) == (400, "InvalidParameter")
    assert response.message.startswith("url error, please check url")


def test_a_text_model_on_the_multimodal_endpoint_is_a_url_error(sdk):
    response = dashscope.MultiModalConversation.call(model="qwen-plus", messages=user({"text": "hi"}))
    assert (response.status_code, response.code) == (400, "InvalidParameter")
    assert response.message.startswith("url error")


def test_the_lenient_default_answers_a_vl_model_on_the_text_endpoint(monkeypatch):
    # The suite's emulator is strict (tests/conftest.py); the default, lenient one is started here.
    lenient = Emulator().start()
    try:
        monkeypatch.setattr(dashscope, "base_http_api_url", lenient.base_url)
        assert not lenient.strict_endpoints
        assert dashscope.Generation.call(model="qwen3-vl-plus", messages=user("hi"), api_key=KEY).status_code == 200
    finally:
        lenient.stop()


# -- multimodal ------------------------------------------------------------------------------------
def test_multimodal_conversation_with_an_image_url_answers_in_content_parts(sdk):
    messages = user({"image": "https://example.com/cat.png"}, {"text": "what is this?"})
    response = dashscope.MultiModalConversation.call(model="qwen3-vl-plus", messages=messages)
    assert response.status_code == 200, response.message
    content = response.output.choices[0].message.content
    assert content == [{"text": "This is the DashScope emulator (qwen3-vl-plus). You said: what is this? (shown: 1 image)"}]
    assert response.usage["image_tokens"] == 256
    sent = sdk.last_request()
    assert sent["path"].endswith("/multimodal-generation/generation")
    assert sent["body"]["input"]["messages"] == messages
    assert sdk.uploads == []


def test_multimodal_stream_of_a_thinking_model_and_data_urls(sdk):
    messages = user({"image": PNG_1x1}, {"video": ["https://example.com/1.jpg", "https://example.com/2.jpg"]}, {"text": "and?"})
    chunks = list(dashscope.MultiModalConversation.call(
        model="qwen3.5-plus", messages=messages, stream=True, incremental_output=True,
    ))
    assert all(chunk.status_code == 200 for chunk in chunks), chunks[0].message
    messages_out = [chunk.output.choices[0].message for chunk in chunks]
    assert messages_out[0]["reasoning_content"] and messages_out[0]["content"] == []
    answer = "".join(part["text"] for m in messages_out for part in m["content"])
    assert answer.endswith("(shown: 1 image, 1 video)")
    assert chunks[-1].usage["output_tokens_details"]["reasoning_tokens"] > 0


def test_a_media_part_that_is_not_a_url_is_refused(sdk, strict):
    for bad in ("/etc/passwd", "file:///etc/passwd", "oss://never/uploaded.png"):
        connection = http.client.HTTPConnection("127.0.0.1", strict.port, timeout=10)
        body = {"model": "qwen3-vl-plus", "input": {"messages": user({"image": bad}, {"text": "x"})}}
        connection.request("POST", "/api/v1/services/aigc/multimodal-generation/generation", json.dumps(body),
                           {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 400
        assert json.loads(response.read())["code"] == "InvalidParameter"


def test_a_local_file_given_to_the_sdk_is_uploaded_and_the_upload_recorded(sdk, tmp_path):
    picture = tmp_path / "local-picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    messages = user({"image": str(picture)}, {"text": "what is this?"})
    response = dashscope.MultiModalConversation.call(model="qwen3-vl-plus", messages=messages)
    assert response.status_code == 200, response.message
    policy, upload = sdk.uploads
    assert policy["step"] == "getPolicy" and policy["query"] == {"action": "getPolicy", "model": "qwen3-vl-plus"}
    assert policy["api_key"] == KEY
    assert upload["step"] == "upload" and upload["filename"] == "local-picture.png"
    assert upload["size"] == picture.stat().st_size
    sent = sdk.last_request()
    assert sent["body"]["input"]["messages"][0]["content"][0]["image"] == f"oss://{upload['key']}"
    assert sent["headers"]["X-Dashscope-Ossresourceresolve"] == "enable"


# -- tool calls and structured output --------------------------------------------------------------
def test_tool_calls_stream_in_fragments_when_asked(sdk):
    chunks = list(dashscope.Generation.call(
        model="qwen-plus", messages=user("Hangzhou please [[emulate tool_fragments]]"), tools=[WEATHER_TOOL],
        result_format="message", stream=True, incremental_output=True,
    ))
    calls = [chunk.output.choices[0].message["tool_calls"][0] for chunk in chunks]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_weather"
    assert len(calls) > 2 and all(call["id"] == "" and "name" not in call["function"] for call in calls[1:])
    arguments = "".join(call["function"]["arguments"] for call in calls)
    assert json.loads(arguments) == {"city": "Hangzhou please"}
    assert chunks[-1].output.choices[0].finish_reason == "tool_calls"


def test_without_the_directive_a_tool_call_comes_whole_in_the_last_event(sdk):
    chunks = list(dashscope.Generation.call(
        model="qwen-plus", messages=user("Hangzhou"), tools=[WEATHER_TOOL],
        result_format="message", stream=True, incremental_output=True,
    ))
    (call,) = chunks[-1].output.choices[0].message["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Hangzhou"}'}


def test_json_schema_answers_fit_the_schema(sdk):
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                                               "tags": {"type": "array", "items": {"type": "string"}}}}
    response = dashscope.Generation.call(
        model="qwen-plus", messages=user("a person"), result_format="message",
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}},
    )
    answer = json.loads(response.output.choices[0].message.content)
    assert set(answer) == {"name", "age", "tags"} and isinstance(answer["age"], int)


# -- embeddings ------------------------------------------------------------------------------------
def test_text_embeddings_are_deterministic_unit_vectors_of_the_asked_dimension(sdk):
    first = dashscope.TextEmbedding.call(model="text-embedding-v4", input=["hello", "world"], dimension=256)
    assert first.status_code == 200, first.message
    embeddings = first.output["embeddings"]
    assert [item["text_index"] for item in embeddings] == [0, 1]
    assert all(len(item["embedding"]) == 256 for item in embeddings)
    assert all(math.isclose(math.fsum(x * x for x in item["embedding"]), 1.0) for item in embeddings)
    assert embeddings[0]["embedding"] != embeddings[1]["embedding"]
    again = dashscope.TextEmbedding.call(model="text-embedding-v4", input="hello", dimension=256)
    assert again.output["embeddings"][0]["embedding"] == embeddings[0]["embedding"]
    assert first.usage["total_tokens"] == 2
    default = dashscope.TextEmbedding.call(model="text-embedding-v3", input="hello")
    assert len(default.output["embeddings"][0]["embedding"]) == 1024


def test_a_bad_embedding_request_is_a_dashscope_400(sdk):
    response = dashscope.TextEmbedding.call(model="text-embedding-v4", input="hello", dimension=100)
    assert (response.status_code, response.code) == (400, "InvalidParameter")
    assert "dimension" in response.message
    assert dashscope.TextEmbedding.call(model="text-embedding-v4", input=["x"] * 11).status_code == 400
