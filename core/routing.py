"""Where a call goes and how it must be sent, from the model's rules (core/models.py): the step of
admission that every door shares, before any SDK call.

- Media: every `image` / `audio` / `video` value must be an http(s):// or data: URL (core/media.py),
  on every door and in every role; a text model takes none at all (a 400 naming the model).
- Endpoint: text (the SDK's Generation) or multimodal (MultiModalConversation). The multimodal
  endpoint takes content as a list of parts and has no prompt mode: a prompt becomes one user turn.
- Thinking: forced tool use, JSON output and partial mode are refused by DashScope while a model
  thinks; thinking is turned off for a call that did not ask for it, otherwise a 400 (both doors).
- Streaming: a call that thinks (or an omni call) is streamed upstream even when the caller wants
  one answer; the upstream client assembles it (core/upstream/client.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.media import check_media, multimodal_messages, refuse_media_for_text_model
from core.models import ModelRules, thinks_by_default
from core.parameter_rules import THINKING_AND_PASSTHROUGH_FIELDS, check_passthrough, resolve_thinking_conflicts
from core.types import GenerationCall


def route_call(call: GenerationCall, rules: ModelRules) -> tuple[GenerationCall, dict[str, Any]]:
    """The call as it will be sent (endpoint, messages, parameters, needs_stream), and notes for its
    log line. Raises InvalidRequest for unsafe media, media for a text model, or a thinking conflict."""
    model, messages, prompt = call.model, call.messages, call.prompt
    notes: dict[str, Any] = {}
    # Only content lists carry media parts: a call of plain strings (most text calls) has none to check.
    has_parts = messages is not None and not _strings_only(messages)
    if has_parts:
        messages = check_media(messages)
    endpoint = rules.endpoint(model)
    if endpoint == "text" and not has_parts and THINKING_AND_PASSTHROUGH_FIELDS.isdisjoint(call.parameters) \
            and not thinks_by_default(model):
        return call, notes  # the common case: a text call that cannot think, as it came (no copy, no checks)
    parameters = check_passthrough(call.parameters)
    if endpoint == "text":
        if has_parts:
            refuse_media_for_text_model(model, messages)
    else:
        if prompt is not None:  # no prompt mode on the multimodal endpoint: the prompt is the user's turn
            messages, prompt = [{"role": "user", "content": prompt}], None
        messages = multimodal_messages(messages or [])
        if parameters.get("result_format") != "message":
            # It answers messages only (content as parts), whatever was asked.
            parameters = {**parameters, "result_format": "message"}
        notes["endpoint"] = endpoint
    parameters, changed = resolve_thinking_conflicts(model, parameters, messages, rules)
    if changed:
        notes["parameters_changed"] = changed
    needs_stream = rules.needs_stream(model, parameters)
    if endpoint == "text" and not needs_stream and messages is call.messages and parameters is call.parameters:
        return call, notes  # the common case, a text call as it came: no copy
    routed = dataclasses.replace(
        call, messages=messages, prompt=prompt, parameters=parameters, endpoint=endpoint, needs_stream=needs_stream
    )
    return routed, notes


def _strings_only(messages: list[Any]) -> bool:
    for message in messages:  # a loop, not any(...): this runs on every call
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            return False
    return True
