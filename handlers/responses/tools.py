"""Responses API tools and tool_choice -> DashScope's.

- `{"type": "function", "name", "description", "parameters", "strict"}` -> DashScope's (Chat
  Completions') `{"type": "function", "function": {...}}` (`strict` is OpenAI's: not sent).
- `namespace` (a named group of function tools, as Codex sends its sub-agent tools): its functions,
  each under its own name; a call to one names its namespace again in the answer (`namespaces`).
- `web_search` / `web_search_preview` (dated names included) -> DashScope's own search, with its
  sources, through core/web_search.py (`search_context_size`, `user_location` as /v1 reads them).
  With `external_web_access: false` (Codex's default: cached results only, no live access) search
  stays off: DashScope's search is live, and it has no cached mode.
- Every other built-in tool (file_search, computer use, code_interpreter, image generation, MCP,
  shell, custom tools, ...) is a 400 naming it: DashScope cannot run it.
"""

from __future__ import annotations

from typing import Any

from core.errors import InvalidRequest

SEARCH_TOOLS = ("web_search", "web_search_preview")
SEARCH_OPTIONS = ("search_context_size", "user_location")


def _is_search(kind: Any) -> bool:
    return isinstance(kind, str) and any(kind == name or kind.startswith(f"{name}_2") for name in SEARCH_TOOLS)


def _function(tool: dict[str, Any], path: str) -> dict[str, Any]:
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"`{path}.name` must be the function's name", param=f"{path}.name")
    function: dict[str, Any] = {"name": name}
    if tool.get("description") is not None:
        function["description"] = tool["description"]
    if tool.get("parameters") is not None:
        if not isinstance(tool["parameters"], dict):
            raise InvalidRequest(f"`{path}.parameters` must be a JSON schema object", param=f"{path}.parameters")
        function["parameters"] = tool["parameters"]
    return {"type": "function", "function": function}


def _search_options(tool: dict[str, Any], path: str) -> dict[str, Any] | None:
    if tool.get("external_web_access") is False:
        return None  # no live web access asked: DashScope's search is live, so it stays off
    refused = sorted(set(tool) - {"type", "external_web_access", *SEARCH_OPTIONS})
    if refused:
        raise InvalidRequest(
            f"`{path}.{refused[0]}` is not supported: DashScope's search takes none (search_context_size and "
            "user_location are read)",
            param=f"{path}.{refused[0]}",
        )
    return {name: tool[name] for name in SEARCH_OPTIONS if tool.get(name) is not None}


def function_tools(tools: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, str]]:
    """DashScope's `tools`, the web search options the tools ask for (None: no search), and the
    namespace of each function that came in one."""
    if tools is None:
        return [], None, {}
    if not isinstance(tools, list):
        raise InvalidRequest("`tools` must be a list of tools", param="tools")
    functions, search, namespaces = [], None, {}
    for index, tool in enumerate(tools):
        path = f"tools[{index}]"
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            functions.append(_function(tool, path))
        elif kind == "namespace" and isinstance(tool.get("tools"), list):
            for position, inner in enumerate(tool["tools"]):
                where = f"{path}.tools[{position}]"
                if not isinstance(inner, dict) or inner.get("type") != "function":
                    raise InvalidRequest(f"`{where}` must be a function tool", param=f"{where}.type")
                functions.append(_function(inner, where))
                namespaces[inner["name"]] = str(tool.get("name") or "")
        elif _is_search(kind):
            search = _search_options(tool, path)
        else:
            raise InvalidRequest(
                f"`{path}`: tool type {kind!r} is not supported: DashScope runs function tools (`function`) "
                "and its own web search (`web_search`) only",
                param=f"{path}.type",
            )
    return functions, search, namespaces


def tool_choice(choice: Any) -> Any:
    """`tool_choice` in DashScope's (Chat Completions') terms; None when not given."""
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    if isinstance(choice, dict) and _is_search(choice.get("type")):
        return None  # search is on for the call already: DashScope decides when to search
    raise InvalidRequest(
        "`tool_choice` must be auto, none, required or {\"type\": \"function\", \"name\": ...}", param="tool_choice"
    )
