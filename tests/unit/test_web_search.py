"""Web search, as pure functions: citation markers -> OpenAI `url_citation` indices, OpenAI's
`web_search_options` -> DashScope's parameters, `search_options` checked, and a stream's sources kept
when it is assembled (core/web_search.py, core/parameters.py, core/result_shapes.py)."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from handlers.openai.answers import chat_chunks, chat_completion
from core.parameters import validate_parameters
from core.result_shapes import assemble
from core.types import Completion
from core.web_search import citation_pattern, map_web_search_options, marker_pattern, url_citations

SOURCES = [
    {"index": 1, "title": "One", "url": "https://a.example/1", "site_name": "A"},
    {"index": 2, "title": "Two", "url": "https://b.example/2", "site_name": "B"},
    {"index": 3, "title": "Three", "url": "https://c.example/3", "site_name": "C"},
]


def spans(text: str, citation_format: str = "[<number>]") -> list[tuple[str, str]]:
    """(url, the text the annotation points at) for each annotation."""
    found = url_citations(text, SOURCES, marker_pattern(citation_format))
    return [(a["url_citation"]["url"], text[a["url_citation"]["start_index"]:a["url_citation"]["end_index"]]) for a in found]


def test_each_default_marker_becomes_a_url_citation_at_its_place() -> None:
    text = "Rain tomorrow[1]. Cooler after[2][1]."
    (first, *_) = url_citations(text, SOURCES, marker_pattern("[<number>]"))
    assert first == {"type": "url_citation", "url_citation": {
        "url": "https://a.example/1", "title": "One", "start_index": 13, "end_index": 16}}
    assert spans(text) == [("https://a.example/1", "[1]"), ("https://b.example/2", "[2]"), ("https://a.example/1", "[1]")]


def test_the_ref_format_and_indices_in_characters_of_chinese_text() -> None:
    text = "杭州明天有雨[ref_1]，气温下降[ref_3]。"
    assert spans(text, "[ref_<number>]") == [("https://a.example/1", "[ref_1]"), ("https://c.example/3", "[ref_3]")]
    found = url_citations(text, SOURCES, marker_pattern("[ref_<number>]"))
    assert [(a["url_citation"]["start_index"], a["url_citation"]["end_index"]) for a in found] == [(6, 13), (18, 25)]


def test_markers_naming_no_source_and_other_brackets_are_not_citations() -> None:
    # DashScope writes `[ref_无]` where it has no source; [7] names none of the three; [1] is not the format.
    text = "a[ref_无] b[ref_7] c[1] d[ref_01]"
    assert spans(text, "[ref_<number>]") == [("https://a.example/1", "[ref_01]")]


def test_no_pattern_or_no_sources_means_no_annotations() -> None:
    assert url_citations("text[1]", SOURCES, None) == []
    assert url_citations("text[1]", [], marker_pattern("[<number>]")) == []


def test_markers_are_read_only_when_the_call_asked_for_them() -> None:
    on = {"enable_search": True, "search_options": {"enable_source": True, "enable_citation": True}}
    assert citation_pattern(on).pattern == r"\[(\d+)\]"
    ref = {"enable_search": True, "search_options": {"enable_source": True, "enable_citation": True,
                                                     "citation_format": "[ref_<number>]"}}
    assert citation_pattern(ref).fullmatch("[ref_12]").group(1) == "12"
    # Without enable_citation, or without enable_source (DashScope then writes no markers), "[1]" is just text.
    assert citation_pattern({"enable_search": True, "search_options": {"enable_source": True}}) is None
    assert citation_pattern({"enable_search": True, "search_options": {"enable_citation": True}}) is None
    assert citation_pattern({"search_options": {"enable_source": True, "enable_citation": True}}) is None


def test_web_search_options_turns_search_on_with_sources_and_markers() -> None:
    mapped, notes = map_web_search_options({"web_search_options": {}, "temperature": 0.2})
    assert mapped == {"temperature": 0.2, "enable_search": True,
                      "search_options": {"enable_source": True, "enable_citation": True}}
    assert notes == []


def test_search_context_size_high_asks_for_the_max_strategy_and_the_callers_options_win() -> None:
    mapped, _ = map_web_search_options({"web_search_options": {"search_context_size": "high"}})
    assert mapped["search_options"]["search_strategy"] == "max"
    for size in ("low", "medium"):
        mapped, _ = map_web_search_options({"web_search_options": {"search_context_size": size}})
        assert "search_strategy" not in mapped["search_options"]
    given = {"search_strategy": "turbo", "citation_format": "[ref_<number>]", "enable_citation": False}
    mapped, _ = map_web_search_options({"web_search_options": {"search_context_size": "high"}, "search_options": given})
    assert mapped["search_options"] == {**given, "enable_source": True}
    assert given == {"search_strategy": "turbo", "citation_format": "[ref_<number>]", "enable_citation": False}


def test_user_location_is_checked_and_noted_not_sent() -> None:
    location = {"type": "approximate", "approximate": {"country": "CN", "city": "Hangzhou"}}
    mapped, notes = map_web_search_options({"web_search_options": {"user_location": location}})
    assert "web_search_options" not in mapped and "user_location" not in str(mapped)
    assert notes == ["web_search_options.user_location not sent: DashScope's search takes no location"]


@pytest.mark.parametrize(
    ("parameters", "param"),
    [
        ({"web_search_options": "on"}, "web_search_options"),
        ({"web_search_options": {}, "enable_search": False}, "web_search_options"),
        ({"web_search_options": {"search_context_size": "huge"}}, "web_search_options.search_context_size"),
        ({"web_search_options": {"forced_search": True}}, "web_search_options.forced_search"),
        ({"web_search_options": {"user_location": {"type": "exact"}}}, "web_search_options.user_location.type"),
        ({"web_search_options": {"user_location": {"approximate": {"city": 7}}}},
         "web_search_options.user_location.approximate.city"),
        ({"web_search_options": {}, "search_options": ["max"]}, "search_options"),
    ],
)
def test_bad_web_search_options_are_a_400_naming_the_field(parameters: dict, param: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        map_web_search_options(parameters)
    assert raised.value.param == param and param in raised.value.message


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"forced_search": "yes"}, "search_options.forced_search"),
        ({"search_strategy": 2}, "search_options.search_strategy"),
        ({"search_strategy": ""}, "search_options.search_strategy"),
        ({"enable_source": 1}, "search_options.enable_source"),
        ({"enable_citation": "true"}, "search_options.enable_citation"),
        ({"citation_format": 5}, "search_options.citation_format"),
        ({"citation_format": "[ref]"}, "search_options.citation_format"),
        ({"prepend_search_result": None, "enable_source": [True]}, "search_options.enable_source"),
        ({"prepend_search_result": "on"}, "search_options.prepend_search_result"),
    ],
)
def test_search_options_are_typed(options: dict, param: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        validate_parameters({"enable_search": True, "search_options": options})
    assert raised.value.param == param and f"`{param}`" in raised.value.message


def test_search_options_is_an_object_and_passes_as_given() -> None:
    with pytest.raises(InvalidRequest, match=r"invalid `search_options`: must be an object"):
        validate_parameters({"search_options": "max"})
    options = {"forced_search": True, "search_strategy": "agent_max", "enable_source": True, "enable_citation": True,
               "citation_format": "[ref_<number>]", "prepend_search_result": True, "freshness": 7,
               "assigned_site_list": ["example.com"], "intention_options": {"prompt_intervene": "AI only"}}
    assert validate_parameters({"enable_search": True, "search_options": options})["search_options"] is options


def event(text: str, finish: str = "null", results: list | None = None) -> dict:
    return {"request_id": "r", "output": {
        "choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "search_info": {"extra_tool_info": [], "search_results": results if results is not None else []}},
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}


STREAM = [event("", results=SOURCES), event("Rain[re"), event("f_2] soon[ref_1]"), event(".", finish="stop")]
REF = {"enable_search": True, "search_options": {"enable_source": True, "enable_citation": True,
                                                 "citation_format": "[ref_<number>]"}}


def test_an_assembled_stream_keeps_the_sources_of_its_first_event() -> None:
    # DashScope sends the sources once, then `search_results: []` on every later event.
    result = assemble(STREAM)
    assert result["output"]["search_info"] == {"extra_tool_info": [], "search_results": SOURCES}
    assert result["output"]["choices"][0]["message"]["content"] == "Rain[ref_2] soon[ref_1]."


def test_v1_answers_carry_annotations_streamed_or_not() -> None:
    whole = assemble(STREAM)
    answer = chat_completion(Completion(whole["request_id"], whole["output"], whole["usage"]), "qwen-plus",
                             citation_pattern(REF))
    message = answer["choices"][0]["message"]
    assert [(a["url_citation"]["url"], message["content"][a["url_citation"]["start_index"]:a["url_citation"]["end_index"]])
            for a in message["annotations"]] == [("https://b.example/2", "[ref_2]"), ("https://a.example/1", "[ref_1]")]
    assert answer["search_info"]["search_results"] == SOURCES  # the uncited third source too

    chunks = list(chat_chunks(iter(Completion("r", e["output"], e["usage"]) for e in STREAM), "qwen-plus", False,
                              citation_pattern(REF)))
    cited = [c for c in chunks if c["choices"] and "annotations" in c["choices"][0]["delta"]]
    assert len(cited) == 1 and cited[0]["search_info"]["search_results"] == SOURCES
    # It comes before the finish_reason, and names the same places in the streamed content.
    assert chunks.index(cited[0]) == len(chunks) - 2 and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert cited[0]["choices"][0]["delta"]["annotations"] == message["annotations"]


def test_without_sources_a_v1_answer_has_no_annotations() -> None:
    plain = event("Rain[1].", finish="stop")
    del plain["output"]["search_info"]
    answer = chat_completion(Completion("r", plain["output"], plain["usage"]), "qwen-plus", marker_pattern("[<number>]"))
    assert "annotations" not in answer["choices"][0]["message"] and "search_info" not in answer
    chunks = list(chat_chunks(iter([Completion("r", plain["output"], plain["usage"])]), "qwen-plus", False))
    assert not any("annotations" in c["choices"][0]["delta"] for c in chunks if c["choices"])
