"""What the emulator knows about model names: which endpoint a model lives on, whether it thinks,
and whether it answers only when streamed. Rules by name, as DashScope's model list reads in 2026.

- Multimodal endpoint only (``url error`` on the text endpoint): VL (``qwen-vl-*``, ``qwen2.5-vl-*``,
  ``qwen3-vl-*``), omni (``qwen*-omni*``), audio (``qwen*-audio*``), QVQ, and Qwen3.5 and later.
- Thinking only: QwQ, QVQ, DeepSeek-R1 and ``*-thinking*`` models. Hybrid (``enable_thinking``):
  on by default for Qwen3.5+ and the open-source Qwen3 sizes (``qwen3-32b``), off for the rest.
  ``*-instruct*`` and coder models never think.
- Stream only: QwQ and QVQ (DashScope's "only support stream mode"), and any hybrid model while it
  thinks ("parameter.enable_thinking must be set to false for non-streaming calls"). DeepSeek-R1
  thinks but also answers non-streaming calls.
"""

from __future__ import annotations

import re
from typing import Any

KNOWN_PREFIXES = ("qwen", "qwq", "qvq", "deepseek")
EMBEDDING_MODEL = re.compile(r"^(text-embedding-v[1-4]|qwen[\d.]*-text-embedding)")
MULTIMODAL_ONLY = re.compile(r"^qvq|-vl\b|-vl-|-omni|-audio|^qwen3\.[5-9]|^qwen[4-9]")
THINKING_ONLY = re.compile(r"^qwq|^qvq|^deepseek-r1|-thinking")
NEVER_THINKS = re.compile(r"-instruct|coder|-mt-")
THINKING_BY_DEFAULT = re.compile(r"^qwen3\.[5-9]|^qwen[4-9]|^qwen3-\d+(\.\d+)?b")
STREAM_ONLY = re.compile(r"^qwq|^qvq")
# DashScope's wording, kept exactly (the first one does end with a space).
STREAM_ONLY_MESSAGE = "This model only support stream mode, please enable the stream parameter to access the model. "
THINKING_NOT_STREAMED_MESSAGE = "parameter.enable_thinking must be set to false for non-streaming calls"
URL_ERROR_MESSAGE = "url error, please check url！ For details, see: https://help.aliyun.com/zh/model-studio/error-code#error-url"


def known(model: str) -> bool:
    return model.startswith(KNOWN_PREFIXES) and not EMBEDDING_MODEL.match(model)


def multimodal_only(model: str) -> bool:
    return bool(MULTIMODAL_ONLY.search(model))


def thinks(model: str, parameters: dict[str, Any]) -> bool:
    if THINKING_ONLY.search(model):
        return True
    if NEVER_THINKS.search(model):
        return False
    asked = parameters.get("enable_thinking")
    if asked is not None:
        return bool(asked)
    return bool(THINKING_BY_DEFAULT.search(model))


def refusal_when_not_streamed(model: str, parameters: dict[str, Any]) -> str | None:
    """DashScope's 400 message for a non-streaming call this model cannot answer, or None."""
    if STREAM_ONLY.search(model):
        return STREAM_ONLY_MESSAGE
    if thinks(model, parameters) and not THINKING_ONLY.search(model):
        return THINKING_NOT_STREAMED_MESSAGE
    return None
