"""LangChain's ChatOpenAI against /v1, over a socket to the function under gunicorn (issue 12):
streaming, forced tool use (`tool_choice="any"`) and structured output."""

from __future__ import annotations

import pytest
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

pytestmark = pytest.mark.server


@pytest.fixture
def chat(server):
    def make(model: str) -> ChatOpenAI:
        return ChatOpenAI(model=model, base_url=f"{server}/v1", api_key="caller-key", max_retries=0, timeout=30)
    return make


def test_streaming(chat):
    pieces = [chunk.content for chunk in chat("qwen-plus").stream("one two three four")]
    assert len([piece for piece in pieces if piece]) > 1
    assert "".join(pieces) == "This is the DashScope emulator (qwen-plus). You said: one two three four"


def test_streaming_a_thinking_model(chat):
    pieces = [chunk.content for chunk in chat("qwen3-next-80b-a3b-thinking").stream("why")]
    assert "".join(pieces) == "This is the DashScope emulator (qwen3-next-80b-a3b-thinking). You said: why"


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


def test_bind_tools_with_tool_choice_any(chat, emulator):
    message = chat("qwen3.5-plus").bind_tools([get_weather], tool_choice="any").invoke("Beijing")
    assert message.tool_calls[0]["name"] == "get_weather" and message.tool_calls[0]["args"] == {"city": "Beijing"}
    sent = emulator.last_request()["body"]["parameters"]
    assert sent["tool_choice"] == "required" and sent["enable_thinking"] is False


class Person(BaseModel):
    name: str
    age: int


def test_with_structured_output(chat, emulator):
    person = chat("qwen-plus").with_structured_output(Person).invoke("Describe Ada as JSON")
    assert isinstance(person, Person) and person.age == 1
    assert emulator.last_request()["body"]["parameters"]["response_format"]["type"] == "json_schema"


def test_with_structured_output_by_function_calling(chat):
    person = chat("qwen3.5-plus").with_structured_output(Person, method="function_calling").invoke("Ada")
    assert person == Person(name="Ada", age=1)
