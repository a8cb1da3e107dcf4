"""Web search and its sources, on every door. Decisions and sources: docs/models.md ("Web search").

DashScope searches when a call sets `enable_search: true`; `search_options` steers it (checked in
core/parameters.py). With `enable_source: true` the native API answers with the sources in
`output.search_info.search_results` (`index`, `title`, `url`, `site_name`, `icon`); with
`enable_citation: true` as well, the text carries a marker per cited source, `[1]` by default or
`[ref_1]` with `citation_format: "[ref_<number>]"` (help.aliyun.com/zh/model-studio/web-search).
DashScope's OpenAI-compatible mode returns neither, which is why this function calls the native API
through the SDK on every door.

- /invoke and the native door pass `search_info` on as DashScope sent it (`merged_output_field`
  keeps a stream's sources when assembled: DashScope repeats `search_info` on every event, its
  `search_results` empty after the first).
- /v1 takes OpenAI's `web_search_options` (`map_web_search_options`) and turns the sources into
  OpenAI's `message.annotations` of type `url_citation`, one per marker in the text, its indices
  the marker's place in the content (`url_citations`).
"""

from __future__ import annotations

import re
from typing import Any

from core.errors import InvalidRequest

DEFAULT_CITATION_FORMAT = "[<number>]"
NUMBER = "<number>"
SEARCH_CONTEXT_SIZES = ("low", "medium", "high")
# OpenAI's `search_context_size` in DashScope's terms: `max` is DashScope's "more comprehensive"
# strategy (more sources, slower); `low` and `medium` keep DashScope's default (`turbo`).
STRATEGY_BY_CONTEXT_SIZE = {"high": "max"}
USER_LOCATION_TYPES = ("approximate",)


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"`{path}` must be an object", param=path)
    return value


def map_web_search_options(parameters: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """OpenAI's `web_search_options` in DashScope's terms (a new dict; the caller's is left alone), and
    notes on what was not sent (for the log line).

    It turns search on with its sources: `enable_search: true` and `search_options` with
    `enable_source` and `enable_citation` true, so that the text carries markers /v1 can point at.
    What the caller set in `search_options` itself wins. `search_context_size: high` asks for
    DashScope's `max` strategy; `user_location` has no DashScope equivalent: checked, not sent.
    """
    options = parameters.get("web_search_options")
    if options is None:
        return parameters, []
    _object(options, "web_search_options")
    mapped = {name: value for name, value in parameters.items() if name != "web_search_options"}
    if mapped.get("enable_search") is False:
        raise InvalidRequest(
            "`web_search_options` turns web search on, and `enable_search: false` turns it off; send one of them",
            param="web_search_options",
        )
    unknown = sorted(set(options) - {"search_context_size", "user_location"})
    if unknown:
        raise InvalidRequest(
            f"`web_search_options.{unknown[0]}` is not an OpenAI web search option "
            "(search_context_size, user_location); DashScope's own go in `search_options`",
            param=f"web_search_options.{unknown[0]}",
        )
    size = options.get("search_context_size")
    if size is not None and size not in SEARCH_CONTEXT_SIZES:
        raise InvalidRequest(
            f"`web_search_options.search_context_size` must be one of {', '.join(SEARCH_CONTEXT_SIZES)} (got {size!r})",
            param="web_search_options.search_context_size",
        )
    notes = []
    location = options.get("user_location")
    if location is not None:
        _check_user_location(location)
        notes.append("web_search_options.user_location not sent: DashScope's search takes no location")
    given = mapped.get("search_options")
    search_options = dict(_object(given, "search_options")) if given is not None else {}
    search_options.setdefault("enable_source", True)
    search_options.setdefault("enable_citation", True)
    if size in STRATEGY_BY_CONTEXT_SIZE:
        search_options.setdefault("search_strategy", STRATEGY_BY_CONTEXT_SIZE[size])
    mapped["enable_search"] = True
    mapped["search_options"] = search_options
    return mapped, notes


def _check_user_location(location: Any) -> None:
    path = "web_search_options.user_location"
    _object(location, path)
    if location.get("type", "approximate") not in USER_LOCATION_TYPES:
        raise InvalidRequest(f"`{path}.type` must be \"approximate\"", param=f"{path}.type")
    approximate = location.get("approximate")
    if approximate is not None:
        for name, value in _object(approximate, f"{path}.approximate").items():
            if value is not None and not isinstance(value, str):
                raise InvalidRequest(f"`{path}.approximate.{name}` must be a string", param=f"{path}.approximate.{name}")


def citation_pattern(parameters: dict[str, Any]) -> re.Pattern[str] | None:
    """The citation marker a call's answer carries, as a regex whose group 1 is the source's index;
    None unless the call asked for markers (`enable_citation` with `enable_source`, search on)."""
    options = parameters.get("search_options")
    if not parameters.get("enable_search") or not isinstance(options, dict):
        return None
    if options.get("enable_citation") is not True or options.get("enable_source") is not True:
        return None
    return marker_pattern(options.get("citation_format") or DEFAULT_CITATION_FORMAT)


def marker_pattern(citation_format: str) -> re.Pattern[str]:
    """`[<number>]` -> `\\[(\\d+)\\]`; `[ref_<number>]` -> `\\[ref_(\\d+)\\]` (any format with `<number>`)."""
    before, _, after = citation_format.partition(NUMBER)
    return re.compile(re.escape(before) + r"(\d+)" + re.escape(after))


def search_sources(output: dict[str, Any]) -> list[dict[str, Any]]:
    """The sources an answer (or a stream event) carries: `output.search_info.search_results`."""
    info = output.get("search_info")
    found = info.get("search_results") if isinstance(info, dict) else None
    return [source for source in found if isinstance(source, dict)] if isinstance(found, list) else []


def url_citations(text: str, sources: list[dict[str, Any]], pattern: re.Pattern[str] | None) -> list[dict[str, Any]]:
    """OpenAI's `url_citation` annotations for the markers in `text`: one per marker whose number is a
    source's `index`, in the order they appear. `start_index` and `end_index` are the marker's place
    in `text` (characters, as Python counts them; end exclusive: `text[start:end]` is the marker).
    A marker naming no source (DashScope sometimes writes `[ref_无]`) is none; a source the text never
    cites has no annotation (OpenAI's shape needs the place that cites it)."""
    if pattern is None or not sources:
        return []
    by_index = {str(source.get("index")): source for source in sources}
    annotations = []
    for match in pattern.finditer(text):
        source = by_index.get(str(int(match.group(1))))
        if source is None:
            continue
        annotations.append({
            "type": "url_citation",
            "url_citation": {
                "url": str(source.get("url") or ""),
                "title": str(source.get("title") or ""),
                "start_index": match.start(),
                "end_index": match.end(),
            },
        })
    return annotations


def merged_output_field(name: str, previous: Any, value: Any) -> Any:
    """One output field of an assembled stream: the last value, except that `search_info` keeps what
    an earlier event carried where later ones are empty (DashScope sends the sources once, then
    `{"search_results": [], "extra_tool_info": []}` on every event)."""
    if name != "search_info" or not isinstance(previous, dict) or not isinstance(value, dict):
        return value
    merged = dict(previous)
    for key, item in value.items():
        if item not in (None, [], {}, "") or key not in merged:
            merged[key] = item
    return merged
