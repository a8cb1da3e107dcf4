"""The OpenAI Agents SDK (`openai-agents`) with its default model, the Responses API, pointed at the
function: an agent with a function tool runs to its final answer, the tool's round trip through
DashScope's messages (against the emulator)."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
from openai import AsyncOpenAI

agents = pytest.importorskip("agents", reason="openai-agents is in requirements-dev.txt: scripts/test.sh installs it")

pytestmark = pytest.mark.server


@agents.function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@pytest.fixture
def default_model_at_the_function(server) -> Iterator[None]:
    agents.set_tracing_disabled(True)  # no trace leaves this machine
    agents.set_default_openai_client(AsyncOpenAI(base_url=f"{server}/v1", api_key="any-key", max_retries=0),
                                     use_for_tracing=False)
    agents.set_default_openai_api("responses")
    yield
    agents.set_default_openai_client(AsyncOpenAI(api_key="unset", base_url="http://127.0.0.1:9/v1"), use_for_tracing=False)


def test_an_agent_with_a_function_tool_runs_to_its_answer(default_model_at_the_function, emulator):
    agent = agents.Agent(name="Assistant", instructions="Use the tool.", tools=[get_weather], model="qwen-plus")
    result = agents.Runner.run_sync(agent, "Hangzhou")

    assert result.final_output == "The tool answered: sunny in Hangzhou"
    kinds = [type(item).__name__ for item in result.new_items]
    assert kinds == ["ToolCallItem", "ToolCallOutputItem", "MessageOutputItem"]
    messages = emulator.last_request()["body"]["input"]["messages"]
    assert messages[0] == {"role": "system", "content": "Use the tool."}
    assert messages[2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert messages[3]["role"] == "tool" and messages[3]["content"] == "sunny in Hangzhou"


def test_a_streamed_run(default_model_at_the_function):
    agent = agents.Agent(name="Assistant", instructions="Answer.", model="qwen3.6-plus")

    async def run() -> tuple[list[str], str]:
        result = agents.Runner.run_streamed(agent, "one two three")
        kinds = [event.data.type async for event in result.stream_events() if event.type == "raw_response_event"]
        return kinds, result.final_output

    kinds, answer = asyncio.run(run())
    assert answer == "This is the DashScope emulator (qwen3.6-plus). You said: one two three"
    assert "response.reasoning_summary_text.delta" in kinds and kinds[-1] == "response.completed"
