"""Web search with its sources, through every door of the function under gunicorn, with the emulator
behind it: the `openai` client on /v1 (OpenAI's `web_search_options`, `url_citation` annotations,
streamed and not), the `dashscope` SDK on the native door, and plain HTTP on /invoke (DashScope's
`search_info` kept as DashScope sent it, streamed, and when the function assembles a stream)."""

from __future__ import annotations

import json

import openai
import pytest
import requests
from dashscope import Generation
from openai import OpenAI

from tests.conftest import sse_events

pytestmark = pytest.mark.server

URLS = [f"https://example.com/emulated-search/{n}" for n in (1, 2, 3)]
SOURCES_AND_MARKERS = {"enable_source": True, "enable_citation": True}


@pytest.fixture
def oai(server) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key="caller", max_retries=0, timeout=30)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def sent(emulator, marker: str) -> dict:
    for seen in reversed(emulator.history):
        if marker in json.dumps(seen["body"]):
            return seen["body"]["parameters"]
    raise AssertionError(f"no call carrying {marker!r} reached the emulator")


def cited(content: str, annotations) -> list[tuple[str, str, str]]:
    """(url, title, the text it points at) for each url_citation, typed or as dicts."""
    found = []
    for annotation in annotations:
        item = annotation if isinstance(annotation, dict) else annotation.model_dump()
        assert item["type"] == "url_citation"
        citation = item["url_citation"]
        found.append((citation["url"], citation["title"], content[citation["start_index"]:citation["end_index"]]))
    return found


# -- /v1: the openai client ------------------------------------------------------------------------
def test_web_search_options_gives_url_citations(oai, emulator):
    answer = oai.chat.completions.create(model="qwen-plus", messages=user("v1 weather"), web_search_options={})
    assert sent(emulator, "v1 weather")["enable_search"] is True
    assert sent(emulator, "v1 weather")["search_options"] == SOURCES_AND_MARKERS
    message = answer.choices[0].message
    assert message.content.endswith("v1 weather[1] The web agrees[2].")
    assert cited(message.content, message.annotations) == [
        (URLS[0], "Result 1 for: v1 weather", "[1]"), (URLS[1], "Result 2 for: v1 weather", "[2]")]
    # All of DashScope's sources, the one the text does not cite too, in an extra field.
    assert [s["url"] for s in answer.model_extra["search_info"]["search_results"]] == URLS


def test_streamed_annotations_come_before_the_finish(oai):
    stream = oai.chat.completions.create(model="qwen-plus", messages=user("v1 stream"), web_search_options={},
                                         stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    (carrier,) = [c for c in chunks if c.choices and (c.choices[0].delta.model_extra or {}).get("annotations")]
    annotations = carrier.choices[0].delta.model_extra["annotations"]
    assert cited(content, annotations) == [(URLS[0], "Result 1 for: v1 stream", "[1]"),
                                           (URLS[1], "Result 2 for: v1 stream", "[2]")]
    assert [s["url"] for s in carrier.model_extra["search_info"]["search_results"]] == URLS
    after = chunks[chunks.index(carrier) + 1]
    assert after.choices[0].finish_reason == "stop" and chunks[-1].usage.total_tokens > 0


def test_search_context_size_and_dashscopes_own_options(oai, emulator):
    location = {"type": "approximate", "approximate": {"country": "CN", "city": "Hangzhou"}}
    oai.chat.completions.create(model="qwen-plus", messages=user("v1 high"),
                                web_search_options={"search_context_size": "high", "user_location": location})
    assert sent(emulator, "v1 high")["search_options"] == {**SOURCES_AND_MARKERS, "search_strategy": "max"}
    # DashScope's own parameters as extra fields, the [ref_n] markers included.
    options = {**SOURCES_AND_MARKERS, "citation_format": "[ref_<number>]", "forced_search": True}
    answer = oai.chat.completions.create(model="qwen-flash", messages=user("v1 ref"),
                                         extra_body={"enable_search": True, "search_options": options})
    assert sent(emulator, "v1 ref")["search_options"] == options
    message = answer.choices[0].message
    assert [text for _url, _title, text in cited(message.content, message.annotations)] == ["[ref_1]", "[ref_2]"]


def test_a_thinking_model_assembled_from_its_stream_keeps_its_sources(oai, emulator):
    # qwen3.6-plus thinks by default, so the function streams its call and assembles the answer.
    answer = oai.chat.completions.create(model="qwen3.6-plus", messages=user("v1 thinks"), web_search_options={})
    assert emulator.history[-1]["stream"] is True
    message = answer.choices[0].message
    assert [url for url, _title, _text in cited(message.content, message.annotations)] == URLS[:2]


def test_sources_without_markers_are_an_empty_list_of_annotations(oai):
    answer = oai.chat.completions.create(model="qwen-plus", messages=user("v1 no markers"),
                                         extra_body={"enable_search": True, "search_options": {"enable_source": True}})
    assert answer.choices[0].message.annotations == []
    assert len(answer.model_extra["search_info"]["search_results"]) == 3


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"web_search_options": {"search_context_size": "huge"}}, "web_search_options.search_context_size"),
        ({"search_options": {"enable_source": "yes"}}, "search_options.enable_source"),
        ({"search_options": {"citation_format": "[n]"}}, "search_options.citation_format"),
    ],
)
def test_v1_names_a_bad_search_option(oai, emulator, extra, param):
    emulator.clear()
    with pytest.raises(openai.BadRequestError) as raised:
        oai.chat.completions.create(model="qwen-plus", messages=user("v1 bad"), extra_body=extra)
    assert raised.value.body["param"] == param and emulator.history == []


# -- the native door: the dashscope SDK ---------------------------------------------------------------
def ask(server: str, text: str, **kwargs):
    return Generation.call(model=kwargs.pop("model", "qwen-plus"), messages=user(text), api_key="caller",
                           base_address=f"{server}/api/v1", result_format="message", enable_search=True, **kwargs)


def test_the_native_door_passes_the_sources_on(server):
    response = ask(server, "native one", search_options={**SOURCES_AND_MARKERS, "citation_format": "[ref_<number>]"})
    assert response.status_code == 200
    assert [s["url"] for s in response.output.search_info["search_results"]] == URLS
    assert response.output.choices[0].message.content.endswith("native one[ref_1] The web agrees[ref_2].")
    assert response.usage["plugins"] == {"search": {"count": 1}}


@pytest.mark.parametrize("prepend", [False, True])
def test_the_native_door_streams_the_sources(server, prepend):
    chunks = list(ask(server, "native stream", stream=True, incremental_output=True,
                      search_options={**SOURCES_AND_MARKERS, "prepend_search_result": prepend}))
    assert [s["url"] for s in chunks[0].output.search_info["search_results"]] == URLS
    assert all(chunk.output.search_info["search_results"] == [] for chunk in chunks[1:])
    assert "".join(c.output.choices[0].message.content for c in chunks).endswith("native stream[1] The web agrees[2].")


def test_the_native_door_assembles_a_thinking_call_with_its_sources(server, emulator):
    response = ask(server, "native thinks", enable_thinking=True, search_options=SOURCES_AND_MARKERS)
    assert response.status_code == 200 and emulator.history[-1]["stream"] is True
    assert [s["url"] for s in response.output.search_info["search_results"]] == URLS


def test_the_native_door_names_a_bad_search_option(server):
    response = ask(server, "native bad", search_options={"forced_search": "always"})
    assert response.status_code == 400 and "search_options.forced_search" in response.message


# -- /invoke ------------------------------------------------------------------------------------------
def invoke(server: str, text: str, stream: bool = False, **parameters) -> requests.Response:
    body = {"model": parameters.pop("model", "qwen-plus"), "messages": user(text), **parameters}
    return requests.post(f"{server}/invoke", json=body, params={"stream": "true"} if stream else None, timeout=30)


def test_invoke_passes_the_sources_on_streamed_or_not(server):
    answer = invoke(server, "invoke one", enable_search=True, search_options=SOURCES_AND_MARKERS).json()
    assert [s["url"] for s in answer["output"]["search_info"]["search_results"]] == URLS
    events = sse_events(invoke(server, "invoke stream", True, enable_search=True,
                               search_options=SOURCES_AND_MARKERS).text)
    assert [s["url"] for s in events[0][1]["output"]["search_info"]["search_results"]] == URLS
    # A thinking call, streamed upstream and assembled here: the sources of its first event stay.
    thought = invoke(server, "invoke thinks", enable_search=True, enable_thinking=True,
                     search_options=SOURCES_AND_MARKERS).json()
    assert [s["url"] for s in thought["output"]["search_info"]["search_results"]] == URLS


def test_invoke_takes_openais_web_search_options_and_names_a_bad_option(server, emulator):
    answer = invoke(server, "invoke openai", web_search_options={}).json()
    assert sent(emulator, "invoke openai")["enable_search"] is True
    assert len(answer["output"]["search_info"]["search_results"]) == 3
    refused = invoke(server, "invoke bad", enable_search=True, search_options={"prepend_search_result": 1})
    assert refused.status_code == 400 and "search_options.prepend_search_result" in refused.json()["message"]
