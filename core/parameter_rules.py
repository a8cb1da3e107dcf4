"""Generation parameters DashScope takes differently from OpenAI, and the ones it refuses while a
model thinks: rules every door uses (core/routing.py runs the checks and the thinking conflicts on every
call). Decisions and sources: docs/models.md.

- `reasoning_effort` (OpenAI) -> `enable_thinking` / `thinking_budget`, except for models that take
  it themselves (qwen3.8-max and later, deepseek-v4), which get it as it is (`map_reasoning_effort`).
- `temperature: 2` (OpenAI's maximum) -> 1.99: DashScope's range is [0, 2) (`map_temperature`).
- `n`, `logprobs`, `top_logprobs`, `parallel_tool_calls`, `search_options`, `translation_options`
  pass through, checked against DashScope's limits (`check_passthrough`).
- Forced tool use, JSON output and partial mode are refused by DashScope in thinking mode. When the
  call did not ask for thinking, thinking is turned off for it; when it did, or the model always
  thinks, it is a 400 that says why (`resolve_thinking_conflicts`).
"""

from __future__ import annotations

from typing import Any

from core.errors import InvalidRequest
from core.models import ModelRules, explicit_thinking, never_thinks, thinking_only

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
# Thinking tokens per effort; a missing level means no budget, the model's own maximum (32K to 80K
# tokens on today's Qwen models). Our choice, not Alibaba's: docs/models.md says why.
THINKING_BUDGETS = {"minimal": 512, "low": 2048, "medium": 8192}
# The highest temperature DashScope accepts (it refuses 2.0: "Temperature should be in [0.0, 2.0)").
DASHSCOPE_MAX_TEMPERATURE = 1.99
MAX_CHOICES = 4
MAX_TOP_LOGPROBS = 5
# The fields the functions below act on: a call with none of them, to a model that does not think by
# default, needs none of them (the request path skips them: they run on every call).
THINKING_AND_PASSTHROUGH_FIELDS = frozenset({
    "enable_thinking", "thinking_budget", "reasoning_effort", "tool_choice", "response_format", "n", "logprobs",
    "top_logprobs", "parallel_tool_calls", "search_options", "translation_options",
})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def map_reasoning_effort(model: str, parameters: dict[str, Any], rules: ModelRules) -> dict[str, Any]:
    """OpenAI's `reasoning_effort` in DashScope's terms (a new dict; the caller's is left alone)."""
    effort = parameters.get("reasoning_effort")
    if effort is None:
        return parameters
    if effort not in REASONING_EFFORTS:
        raise InvalidRequest(
            f"`reasoning_effort` must be one of {', '.join(REASONING_EFFORTS)} (got {effort!r})",
            param="reasoning_effort",
        )
    if parameters.get("thinking_budget") is not None:
        raise InvalidRequest(
            "send `reasoning_effort` or `thinking_budget`, not both (DashScope refuses the pair, and this "
            "function maps one onto the other)",
            param="reasoning_effort",
        )
    if rules.takes_reasoning_effort(model):
        return parameters
    mapped = {name: value for name, value in parameters.items() if name != "reasoning_effort"}
    wants_thinking = effort not in ("none", "minimal") or thinking_only(model)
    asked = parameters.get("enable_thinking")
    if isinstance(asked, bool) and asked != wants_thinking and not thinking_only(model):
        raise InvalidRequest(
            f"`reasoning_effort: {effort}` and `enable_thinking: {str(asked).lower()}` disagree; send one of them",
            param="reasoning_effort",
        )
    if thinking_only(model):
        if effort == "none":
            raise InvalidRequest(
                f"model {model!r} always thinks: `reasoning_effort: none` cannot turn its thinking off; use a "
                "hybrid model (such as qwen3.5-plus) or another effort",
                param="reasoning_effort",
            )
    elif never_thinks(model):
        if wants_thinking:
            raise InvalidRequest(
                f"model {model!r} does not think, so `reasoning_effort: {effort}` cannot apply; send none, or "
                "use a thinking model (such as qwen3.6-plus or qwen3-next-80b-a3b-thinking)",
                param="reasoning_effort",
            )
        return mapped
    else:
        mapped["enable_thinking"] = wants_thinking
    if wants_thinking and effort in THINKING_BUDGETS:
        mapped["thinking_budget"] = THINKING_BUDGETS[effort]
    return mapped


def map_temperature(parameters: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's top temperature (2) -> DashScope's (1.99). Other values are left to the validators."""
    value = parameters.get("temperature")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 2:
        return {**parameters, "temperature": DASHSCOPE_MAX_TEMPERATURE}
    return parameters


def check_passthrough(parameters: dict[str, Any]) -> dict[str, Any]:
    """Fields DashScope takes as OpenAI sends them, checked against DashScope's limits."""
    n = parameters.get("n")
    if n is not None:
        if not _is_int(n) or not 1 <= n <= MAX_CHOICES:
            raise InvalidRequest(f"`n` must be a whole number from 1 to {MAX_CHOICES} (DashScope's range)", param="n")
        if n > 1 and parameters.get("tools"):
            raise InvalidRequest(
                "DashScope returns one choice when `tools` are given: send `n: 1`, or one request per choice",
                param="n",
            )
    logprobs, top = parameters.get("logprobs"), parameters.get("top_logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise InvalidRequest("`logprobs` must be true or false", param="logprobs")
    if top is not None:
        if not _is_int(top) or not 0 <= top <= MAX_TOP_LOGPROBS:
            raise InvalidRequest(
                f"`top_logprobs` must be a whole number from 0 to {MAX_TOP_LOGPROBS} (DashScope's range)",
                param="top_logprobs",
            )
        if top and logprobs is not True:
            raise InvalidRequest("`top_logprobs` needs `logprobs: true`", param="top_logprobs")
    for name in ("parallel_tool_calls", "enable_thinking"):
        if parameters.get(name) is not None and not isinstance(parameters[name], bool):
            raise InvalidRequest(f"`{name}` must be true or false", param=name)
    budget = parameters.get("thinking_budget")
    if budget is not None and (not _is_int(budget) or budget < 1):
        raise InvalidRequest("`thinking_budget` must be a whole number of tokens, at least 1", param="thinking_budget")
    for name in ("search_options", "translation_options"):
        if parameters.get(name) is not None and not isinstance(parameters[name], dict):
            raise InvalidRequest(f"`{name}` must be an object", param=name)
    return parameters


def _refused_while_thinking(parameters: dict[str, Any], messages: Any) -> list[tuple[str, str]]:
    """(what, field) for each thing in the call that DashScope refuses in thinking mode."""
    found = []
    choice = parameters.get("tool_choice")
    if choice == "required" or isinstance(choice, dict):
        found.append(("forced tool use", "tool_choice"))
    response_format = parameters.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
        found.append(("JSON output", "response_format"))
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        last = messages[-1]
        if last.get("role") == "assistant" and last.get("partial") is True:
            found.append(("partial mode", f"messages[{len(messages) - 1}].partial"))
    return found


def resolve_thinking_conflicts(
    model: str, parameters: dict[str, Any], messages: Any, rules: ModelRules
) -> tuple[dict[str, Any], list[str]]:
    """The parameters to send, and notes on what was changed (for the log line).

    DashScope refuses forced tool use (`tool_choice` "required" or a named function), JSON output
    (`response_format` json_object / json_schema) and partial mode while a model thinks. A call that
    did not ask for thinking gets `enable_thinking: false` (models that think by default: Qwen 3.5+,
    open-source Qwen3). A call that asked for it, or a model that always thinks, is a 400.
    """
    refused = _refused_while_thinking(parameters, messages)
    if not refused or not rules.thinks(model, parameters):
        return parameters, []
    what = " and ".join(item for item, _field in refused)
    field = refused[0][1]
    if thinking_only(model):
        raise InvalidRequest(
            f"model {model!r} always thinks, and DashScope refuses {what} in thinking mode; use a hybrid "
            "model (such as qwen3.5-plus), which this function then calls with thinking off",
            param=field,
        )
    if explicit_thinking(parameters):
        raise InvalidRequest(
            f"DashScope refuses {what} while the model thinks, and this call asks for thinking "
            "(`enable_thinking`, `thinking_budget` or `reasoning_effort`): drop that, and this function turns "
            f"thinking off for the call, or drop `{field}`",
            param=field,
        )
    return {**parameters, "enable_thinking": False}, [f"thinking turned off for {what}"]


def chat_parameters(
    model: str, parameters: dict[str, Any], messages: Any, rules: ModelRules
) -> tuple[dict[str, Any], list[str]]:
    """Everything above, in order, for a call in OpenAI's terms (/v1 chat, and any door that takes its
    names): effort, temperature, checks, thinking conflicts."""
    parameters = map_temperature(map_reasoning_effort(model, parameters, rules))
    return resolve_thinking_conflicts(model, check_passthrough(parameters), messages, rules)
