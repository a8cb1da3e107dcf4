"""Models DashScope no longer serves, and the owner's MODEL_ALIASES: the first step of admission for
every call, whichever door it came through (core/policy.py).

- A retired name is refused before any upstream call (`ModelNotFound`: DashScope's own 400 on /invoke
  and the native door, OpenAI's 404 `model_not_found` on /v1), with a message naming the replacement.
- MODEL_ALIASES (`qwen-turbo=qwen-flash,qwen-vl-max=qwen3.6-plus`) maps names on purpose, before the
  retirement check: a caller that still sends an old name gets the model the owner chose, and the log
  line and the caller's usage name the model really called.
- At start, `retired_model_warnings` names every setting that still names a retired model.

Sources (docs/models.md has the table with its dates):
- Model Studio notice 731, "【Model Studio】部分历史主线模型下线通知": five mainline models retired on
  2026-10-10 in Beijing and Singapore; "模型下线后，将不再支持模型推理"; replacements: "Qwen3.6/Qwen3.7 系列最新模型".
- Model Studio notice 792, "【ModelStudio】部分语音系列历史主线模型下线通知" (2026-06-05): four speech
  models retired on 2026-10-10, with the replacements it names.
- help.aliyun.com/en/model-studio/model-depreciation: from the retirement date, "API calls to the
  retired model will fail".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, TypeVar

from core.errors import ModelNotFound

NOTICE_731 = ("Model Studio notice 731 (2026-10-10), https://www.alibabacloud.com/zh/notice/"
              "model_studionotice_on_the_decommissioning_of_certain_historical_mainline_models_731")
NOTICE_792 = ("Model Studio notice 792 (2026-06-05, effective 2026-10-10), https://www.alibabacloud.com/zh/notice/"
              "modelstudiospeech_series_legacy_mainline_models_eos_notice_792")


@dataclass(frozen=True)
class RetiredModel:
    name: str
    retired_on: str  # ISO date, Beijing time
    replacement: str | None  # None: the notice names none
    source: str


RETIRED: dict[str, RetiredModel] = {model.name: model for model in (
    # Notice 731 recommends "the latest Qwen3.6/Qwen3.7 models"; each replacement is the current model of
    # the same kind: text → qwen-flash (qwen-turbo's cheap, fast successor line), vision and thinking →
    # Qwen3.6 (multimodal, thinks by default).
    RetiredModel("qwen-turbo", "2026-10-10", "qwen-flash", NOTICE_731),
    RetiredModel("qwen-vl-max", "2026-10-10", "qwen3.6-plus", NOTICE_731),
    RetiredModel("qwen-vl-plus", "2026-10-10", "qwen3.6-flash", NOTICE_731),
    RetiredModel("qwq-plus", "2026-10-10", "qwen3.6-plus", NOTICE_731),
    RetiredModel("qvq-max", "2026-10-10", "qwen3.6-plus", NOTICE_731),
    # Speech (notice 792): served by DashScope's speech APIs, not by this function's doors.
    RetiredModel("qwen-tts", "2026-10-10", "cosyvoice-v3-flash", NOTICE_792),
    RetiredModel("qwen-tts-realtime", "2026-10-10", "cosyvoice-v3-flash", NOTICE_792),
    RetiredModel("qwen-voice-design", "2026-10-10", "cosyvoice-v3.5-flash", NOTICE_792),
    RetiredModel("gummy-realtime-v1", "2026-10-10", None, NOTICE_792),
)}

Aliases = tuple[tuple[str, str], ...]
C = TypeVar("C")


def retired(model: str) -> RetiredModel | None:
    """The retirement of `model` (compared lower-cased), or None for a model not retired."""
    return RETIRED.get(model.lower())


def retirement_message(model: str, found: RetiredModel) -> str:
    notice = found.source.split(" (", 1)[0]
    instead = (f"use `{found.replacement}` instead (the function's owner can map the old name with "
               f"MODEL_ALIASES={found.name}={found.replacement})") if found.replacement else "DashScope names no replacement"
    return f"the model `{model}` was retired by DashScope on {found.retired_on} ({notice}) and no longer answers: {instead}"


def parse_model_aliases(raw: str) -> Aliases:
    """MODEL_ALIASES: `old=new` pairs joined by commas. Raises ValueError naming the bad pair."""
    aliases: dict[str, str] = {}
    for item in (piece.strip() for piece in raw.split(",")):
        if not item:
            continue
        old, sep, new = (part.strip() for part in item.partition("="))
        if not sep or not old or not new or "=" in new:
            raise ValueError(f"MODEL_ALIASES: {item!r} must be old=new (model names), pairs joined by commas")
        if old.lower() in aliases:
            raise ValueError(f"MODEL_ALIASES maps {old!r} twice: keep one")
        if old.lower() == new.lower():
            raise ValueError(f"MODEL_ALIASES maps {old!r} to itself")
        found = retired(new)
        if found:
            raise ValueError(f"MODEL_ALIASES maps {old!r} to {new!r}, which DashScope retired on {found.retired_on}"
                             + (f": map it to {found.replacement!r}" if found.replacement else ""))
        aliases[old.lower()] = new
    for old, new in aliases.items():
        if new.lower() in aliases:
            raise ValueError(f"MODEL_ALIASES maps {old!r} to {new!r}, which it maps again: map {old!r} to the final name")
    return tuple(aliases.items())


def resolve_model(call: C, aliases: Aliases) -> tuple[C, dict[str, Any]]:
    """The call with its model as it will be called (MODEL_ALIASES applied), and notes for its log line
    (`model`: the name called, `model_asked`: the name the caller sent). Raises ModelNotFound for a
    retired model no alias maps."""
    asked: str = call.model  # type: ignore[attr-defined]
    called = dict(aliases).get(asked.lower(), asked) if aliases else asked
    found = retired(called)
    if found:
        raise ModelNotFound(retirement_message(called, found), param="model")
    if called == asked:
        return call, {}
    return dataclasses.replace(call, model=called), {"model": called, "model_asked": asked}  # type: ignore[type-var]


def retired_model_warnings(settings: Mapping[str, Iterable[str]], aliases: Aliases) -> list[str]:
    """One warning per retired name in the settings given ({"QWEN_MODEL": [...], "ALLOWED_MODELS": [...],
    "CALLERS (caller x)": [...]}): what the name does now, and what to do."""
    mapped = dict(aliases)
    warnings = []
    for setting, names in settings.items():
        for name in names:
            found = retired(name)
            if found is None:
                continue
            target = mapped.get(name.lower())
            if target and setting == "QWEN_MODEL":
                continue  # calls to it are mapped: nothing fails
            if target:
                warnings.append(f"{setting} names {name}, which DashScope retired on {found.retired_on}; MODEL_ALIASES "
                                f"maps it to {target}, and the model called is what this list is checked against: "
                                f"list {target} instead")
            else:
                instead = f"use {found.replacement}" if found.replacement else "DashScope names no replacement"
                warnings.append(f"{setting} names {name}, which DashScope retired on {found.retired_on}: calls to it "
                                f"fail ({instead}, or map it with MODEL_ALIASES)")
    return warnings
