"""The emulator's web search, as DashScope's "联网搜索" page shows it (scripts/emulator/search.py): sources
in `output.search_info` and citation markers on the native API, streamed and not, with
`prepend_search_result`; none of it in compatible mode. Driven by the real dashscope SDK and the
openai client, straight at the emulator."""

from __future__ import annotations

import dashscope
import pytest
from openai import OpenAI

from tests.app.conftest import EMULATOR_KEY as KEY

SOURCES_AND_MARKERS = {"enable_source": True, "enable_citation": True, "citation_format": "[ref_<number>]"}


def ask(text: str, **kwargs):
    return dashscope.Generation.call(model="qwen-plus", messages=[{"role": "user", "content": text}],
                                     result_format="message", **kwargs)


def test_sources_and_markers_in_one_answer(sdk):
    response = ask("weather in Hangzhou", enable_search=True, search_options=SOURCES_AND_MARKERS)
    assert response.status_code == 200
    info = response.output.search_info
    assert info["extra_tool_info"] == []
    assert [(s["index"], s["url"]) for s in info["search_results"]] == [
        (n, f"https://example.com/emulated-search/{n}") for n in (1, 2, 3)]
    assert set(info["search_results"][0]) == {"site_name", "icon", "index", "title", "url"}
    assert response.output.choices[0].message.content.endswith("weather in Hangzhou[ref_1] The web agrees[ref_2].")
    assert response.usage["plugins"] == {"search": {"count": 1}}


def test_the_default_marker_and_the_number_of_sources(sdk):
    response = ask("news [[emulate sources=1]]", enable_search=True,
                   search_options={"enable_source": True, "enable_citation": True})
    assert len(response.output.search_info["search_results"]) == 1
    assert response.output.choices[0].message.content.endswith("news[1]")


def test_search_without_sources_or_citation(sdk):
    # enable_search alone: DashScope searches (usage says so) but sends no search_info and no markers.
    plain = ask("hello", enable_search=True, search_options={"enable_citation": True})
    assert "search_info" not in plain.output and plain.usage["plugins"] == {"search": {"count": 1}}
    assert plain.output.choices[0].message.content.endswith("hello")
    sources_only = ask("hello", enable_search=True, search_options={"enable_source": True})
    assert sources_only.output.search_info["search_results"]
    assert sources_only.output.choices[0].message.content.endswith("hello")
    assert "plugins" not in ask("hello").usage


@pytest.mark.parametrize("prepend", [False, True])
def test_a_stream_sends_the_sources_once(sdk, prepend):
    chunks = list(ask("rain", enable_search=True, stream=True, incremental_output=True,
                      search_options={**SOURCES_AND_MARKERS, "prepend_search_result": prepend}))
    infos = [chunk.output.search_info for chunk in chunks]
    assert len(infos[0]["search_results"]) == 3
    assert all(info == {"extra_tool_info": [], "search_results": []} for info in infos[1:])
    text = "".join(chunk.output.choices[0].message.content for chunk in chunks)
    assert text.endswith("rain[ref_1] The web agrees[ref_2].")
    first = chunks[0].output.choices[0]
    if prepend:  # the sources alone, ahead of the reply
        assert first.message.content == "" and first.finish_reason == "null" and "total_tokens" not in chunks[0].usage
    else:
        assert first.message.content


def test_compatible_mode_returns_no_sources_and_no_markers(strict):
    client = OpenAI(base_url=strict.compatible_base_url, api_key=KEY, max_retries=0)
    extra = {"enable_search": True, "search_options": SOURCES_AND_MARKERS}
    answer = client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "rain"}],
                                            extra_body=extra)
    assert answer.choices[0].message.content.endswith("rain")
    assert "search_info" not in (answer.model_extra or {}) and not answer.choices[0].message.annotations
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="qwen-plus", messages=[{"role": "user", "content": "rain"}], extra_body=extra, stream=True) if c.choices)
    assert streamed == answer.choices[0].message.content
