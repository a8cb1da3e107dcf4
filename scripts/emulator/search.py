"""Web search as DashScope answers it, from Model Studio's "联网搜索" page
(help.aliyun.com/zh/model-studio/web-search, updated 2026-02-12; the shapes below are its examples):

- ``enable_search: true``: the model may search (DashScope's model decides; ``forced_search`` makes it
  always). The emulated model always searches, and its usage says so: ``plugins.search.count: 1``.
- ``search_options.enable_source: true``: the native API's ``output.search_info`` is
  ``{"extra_tool_info": [], "search_results": [{"site_name", "icon", "index", "title", "url"}, ...]}``.
- ``enable_citation: true`` (with ``enable_source``): the reply carries a marker after what it took
  from a source, ``[1]`` or, with ``citation_format: "[ref_<number>]"``, ``[ref_1]``.
- Streamed: the first event carries the sources; every later event repeats ``search_info`` with
  ``search_results: []``. ``prepend_search_result: true`` sends the sources alone first (empty
  content, ``finish_reason: "null"``, ``usage: {}``), the reply in the events after it.
- OpenAI-compatible mode takes the same parameters but returns no sources and no markers ("OpenAI
  兼容协议不支持返回搜索来源、角标标注"): compatible.py never calls this module.

The directive ``sources=N`` sets how many sources the search finds (3 by default, 0 for none). The
emulated reply cites the first two; a ``reply=`` directive is sent as it is (write markers in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .answers import Answer
from .directives import strip, text_of

DEFAULT_SOURCES = 3
DEFAULT_CITATION_FORMAT = "[<number>]"


@dataclass
class Search:
    """What one native call's search gives: its sources (None: not asked for), its marker format
    (None: no markers), and whether a stream sends the sources ahead of the reply."""

    sources: list[dict[str, Any]] | None
    citation_format: str | None
    prepend: bool

    def info(self, first: bool = True) -> dict[str, Any] | None:
        """`output.search_info` for the answer or a stream's first event (`first`), or a later event."""
        if self.sources is None:
            return None
        return {"extra_tool_info": [], "search_results": self.sources if first else []}

    def marker(self, number: int) -> str:
        return (self.citation_format or DEFAULT_CITATION_FORMAT).replace("<number>", str(number))


def plan(parameters: dict[str, Any], directives: dict[str, str], said: str) -> Search | None:
    """The search a native call asks for, or None when it does not search."""
    if parameters.get("enable_search") is not True:
        return None
    options = parameters.get("search_options") if isinstance(parameters.get("search_options"), dict) else {}
    if options.get("enable_source") is not True:
        return Search(None, None, False)
    count = int(directives.get("sources", DEFAULT_SOURCES))
    topic = said[:40] or "the question"
    sources = [
        {
            "site_name": f"Emulated site {number}",
            "icon": "",
            "index": number,
            "title": f"Result {number} for: {topic}",
            "url": f"https://example.com/emulated-search/{number}",
        }
        for number in range(1, count + 1)
    ]
    cites = options.get("enable_citation") is True
    citation_format = (options.get("citation_format") or DEFAULT_CITATION_FORMAT) if cites else None
    return Search(sources, citation_format, options.get("prepend_search_result") is True)


def cite(answer: Answer, search: Search, directives: dict[str, str]) -> None:
    """Put citation markers in the emulated reply: after what it said (source 1) and after a second
    sentence (source 2). A tool call, a cut reply or a directed reply is left as it is."""
    if search.citation_format is None or not search.sources or answer.tool_calls or "reply" in directives:
        return
    if answer.finish_reason != "stop":
        return
    answer.text += search.marker(1)
    if len(search.sources) > 1:
        answer.text += f" The web agrees{search.marker(2)}."


def prepare(
    answer: Answer,
    parameters: dict[str, Any],
    directives: dict[str, str],
    messages: list[dict[str, Any]] | None,
    prompt: str | None,
) -> Search | None:
    """A native call's search (None: it does not search), its markers put in the answer's reply."""
    said = strip(text_of(messages[-1].get("content")) if messages else str(prompt))
    searched = plan(parameters, directives, said)
    json_reply = (parameters.get("response_format") or {}).get("type") in ("json_object", "json_schema")
    if searched is not None and not json_reply:  # markers would break the JSON
        cite(answer, searched, directives)
    return searched


def usage_plugins() -> dict[str, Any]:
    """What usage adds when the model searched."""
    return {"plugins": {"search": {"count": 1}}}
