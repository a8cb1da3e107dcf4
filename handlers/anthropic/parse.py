"""An Anthropic Messages API body -> the neutral `GenerationCall` (and, for count_tokens, the texts to
count). Field by field (decisions in docs/api.md, "Anthropic's Messages API"):

- `model`: a Qwen name as it is; a name ANTHROPIC_MODEL_MAP matches (`claude-*=qwen3.6-plus`) -> its
  model; an unmapped `claude-…` name is a 404 that names the setting.
- `max_tokens` (required, as Anthropic requires it), `temperature`, `top_p`, `top_k`,
  `stop_sequences` (-> `stop`): passed on, checked by core/parameters.py.
- `thinking`: `enabled` (+ `budget_tokens`) -> `enable_thinking` + `thinking_budget`; `adaptive` ->
  `enable_thinking`; `disabled` -> off. A model that cannot do what is asked (a coder model never
  thinks; a thinking-only model cannot stop) keeps its nature, noted on the log line, not refused:
  Anthropic's clients send `thinking` whatever the model.
- `tools`, `tool_choice` (core content.py); `metadata.user_id` on the log line, not sent.
- `output_config.format` (json_schema) -> `response_format`; its `effort`, `context_management`,
  `service_tier`, `container`-free fields Claude Code sends: accepted, noted as ignored.
- A last assistant turn (Anthropic's prefill) is sent in DashScope's partial mode.
- Any other field is a 400 naming it, as Anthropic answers an unknown field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config import Config
from core.errors import InvalidRequest, ModelNotFound
from core.json_input import whole_numbers
from core.model_map import mapped_model
from core.models import ModelRules, never_thinks, thinking_only
from core.parameters import stream_switch, validate_messages, validate_parameters, with_call_defaults
from core.types import GenerationCall
from handlers.anthropic.content import dashscope_messages, dashscope_tool_choice, dashscope_tools

MODEL_MAP_SETTING = "ANTHROPIC_MODEL_MAP"
# Fields that may change nothing here: accepted, and named on the log line as ignored.
# (A top-level `cache_control` asks Anthropic to place a cache marker itself: DashScope's implicit cache
# is always on, and markers on blocks are passed on.)
IGNORED_FIELDS = frozenset({"context_management", "service_tier", "anthropic_version", "anthropic_beta", "betas",
                            "cache_control", "diagnostics", "inference_geo", "speed", "user_profile_id",
                            "workspace_id"})
KNOWN_FIELDS = frozenset({"model", "messages", "system", "max_tokens", "stream", "temperature", "top_p", "top_k",
                          "stop_sequences", "tools", "tool_choice", "thinking", "metadata", "output_config", "container",
                          "mcp_servers"})
USER_LOGGED_CHARS = 256


@dataclass(frozen=True)
class MessagesRequest:
    call: GenerationCall
    stream: bool
    model_asked: str  # what the answer's `model` says: the name the caller sent
    user: str | None = None
    notes: tuple[str, ...] = ()

    def log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"door": "anthropic", "model": self.call.model, "stream": self.stream}
        if self.model_asked != self.call.model:
            fields["model_asked"] = self.model_asked
        if self.user is not None:
            fields["user"] = self.user[:USER_LOGGED_CHARS]
        if self.notes:
            fields["parameters_changed"] = list(self.notes)
        return fields


def qwen_model(body: dict[str, Any], config: Config) -> str:
    """The model to call for the body's `model` (required, as Anthropic requires it)."""
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("`model` is required: a Qwen model name such as \"qwen3.6-plus\"", param="model")
    mapped = mapped_model(model, config.anthropic_model_map) if config.anthropic_model_map else None
    if mapped:
        return mapped
    if model.lower().startswith("claude"):
        raise ModelNotFound(
            f"the model `{model}` is a Claude name, and this function serves Qwen models: name one (such as "
            f"qwen3.6-plus), or have the function's owner map Claude names with {MODEL_MAP_SETTING} "
            "(for example claude-*=qwen3.6-plus)",
            param="model",
        )
    return model


def _thinking(value: Any, model: str, notes: list[str]) -> dict[str, Any]:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in ("enabled", "disabled", "adaptive"):
        raise InvalidRequest("`thinking.type` must be enabled, disabled or adaptive", param="thinking.type")
    if kind == "disabled":
        if thinking_only(model):
            notes.append(f"thinking: {model} always thinks")
            return {}
        return {"enable_thinking": False}
    if never_thinks(model):
        notes.append(f"thinking: {model} does not think")
        return {}
    parameters: dict[str, Any] = {} if thinking_only(model) else {"enable_thinking": True}
    budget = whole_numbers({"thinking_budget": value.get("budget_tokens")})["thinking_budget"]
    if kind == "enabled" and budget is not None:
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
            raise InvalidRequest("`thinking.budget_tokens` must be a whole number of tokens", param="thinking.budget_tokens")
        parameters["thinking_budget"] = budget
    return parameters


def _output_config(value: Any, notes: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest("`output_config` must be an object", param="output_config")
    found = value.get("format")
    parameters: dict[str, Any] = {}
    if found is not None:
        if not isinstance(found, dict) or found.get("type") != "json_schema" or not isinstance(found.get("schema"), dict):
            raise InvalidRequest("`output_config.format` must be {\"type\": \"json_schema\", \"schema\": {...}}",
                                 param="output_config.format")
        parameters["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "output", "schema": found["schema"]}}
    if value.get("effort") is not None:
        notes.append("output_config.effort ignored")
    return parameters


def _user(metadata: Any) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidRequest("`metadata` must be an object", param="metadata")
    user = metadata.get("user_id")
    if user is not None and not isinstance(user, str):
        raise InvalidRequest("`metadata.user_id` must be a string", param="metadata.user_id")
    return user


def parse_messages_request(body: Any, config: Config, rules: ModelRules, counting: bool = False) -> MessagesRequest:
    """A Messages API body -> the call to make. `counting`: a count_tokens body (no max_tokens)."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object: an Anthropic Messages API request")
    for name in body:
        if name not in KNOWN_FIELDS and name not in IGNORED_FIELDS:
            raise InvalidRequest(f"`{name}`: Extra inputs are not permitted", param=name)
    if body.get("container") is not None or body.get("mcp_servers"):
        name = "container" if body.get("container") is not None else "mcp_servers"
        raise InvalidRequest(f"`{name}`: Anthropic's server-side tools are not served here", param=name)
    model = qwen_model(body, config)
    multimodal = rules.takes_media(model)
    notes = [f"{name} ignored" for name in sorted(IGNORED_FIELDS & body.keys()) if body[name] is not None]
    parameters: dict[str, Any] = {}
    max_tokens = body.get("max_tokens")
    if max_tokens is None and not counting:
        raise InvalidRequest("`max_tokens`: Field required", param="max_tokens")
    if max_tokens is not None and not counting:
        parameters["max_tokens"] = max_tokens
    for name in ("temperature", "top_p", "top_k"):
        if body.get(name) is not None:
            parameters[name] = body[name]
    stops = body.get("stop_sequences")
    if stops is not None and stops != []:
        if not isinstance(stops, list) or not all(isinstance(stop, str) and stop for stop in stops):
            raise InvalidRequest("`stop_sequences` must be a list of non-empty strings", param="stop_sequences")
        parameters["stop"] = stops
    if body.get("tools"):
        parameters["tools"] = dashscope_tools(body["tools"])
    if body.get("tool_choice") is not None:
        choice, parallel = dashscope_tool_choice(body["tool_choice"])
        if "tools" in parameters or choice == "none":
            parameters["tool_choice"] = choice
        if parallel is not None and "tools" in parameters:
            parameters["parallel_tool_calls"] = parallel
    if body.get("thinking") is not None:
        parameters.update(_thinking(body["thinking"], model, notes))
    if body.get("output_config") is not None:
        parameters.update(_output_config(body["output_config"], notes))
    user = _user(body.get("metadata"))

    messages = dashscope_messages(body.get("system"), body.get("messages"), model, multimodal)
    if messages and messages[-1]["role"] == "assistant" and not messages[-1].get("tool_calls"):
        # Anthropic's prefill (the answer continues the last assistant turn) is DashScope's partial mode.
        messages[-1]["partial"] = True
    stream = False if counting else stream_switch(body.get("stream"))
    parameters = validate_parameters(whole_numbers(parameters))
    with_call_defaults(parameters, "message", stream)
    call = GenerationCall(model=model, messages=validate_messages(messages), parameters=parameters)
    return MessagesRequest(call=call, stream=stream, model_asked=body["model"], user=user, notes=tuple(notes))
