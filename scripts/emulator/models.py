"""What the emulator knows about model names: which models exist, which endpoint a model lives on,
whether it thinks, and whether it answers only when streamed. Rules by name, as DashScope's model list
reads in late 2026.

- Which exist (`exists`): the lines below, each with its dated snapshots (`-latest`, `-2025-07-28`,
  `-0723`, `-preview`). Anything else, the models DashScope retired on 2026-10-10 (Model Studio notice
  731: qwen-turbo, qwen-vl-max, qwen-vl-plus, qwq-plus, qvq-max, with their snapshots) and typos such as
  `qwen-plsu` included, gets DashScope's answer for a model it does not serve: 400 InvalidParameter
  "Model not exist." natively, 404 `model_not_found` in compatible mode (Model Studio's error-code page;
  the wording of the native one as DashScope's answers to retired names quote it). docs/models.md lists
  these lines with their sources; `Emulator(extra_models=...)` (`--extra-model`) adds names for a test
  or a local run that needs one DashScope added later.
- Multimodal endpoint only (``url error`` on the text endpoint): VL (``qwen-vl-*``, ``qwen2.5-vl-*``,
  ``qwen3-vl-*``), omni (``qwen*-omni*``), audio (``qwen*-audio*``), QVQ, Qwen3.5 and later, and Kimi
  K2.5 and later (as the function's rules and docs/models.md have them).
- Thinking only: QwQ, QVQ, DeepSeek-R1 and ``*-thinking*`` models. Hybrid (``enable_thinking``):
  on by default for Qwen3.5+ and the open-source Qwen3 sizes (``qwen3-32b``), off for the rest.
  ``*-instruct*`` and coder models never think.
- Stream only: QwQ, QVQ and the Qwen3 thinking-only models (``qwen3-*-thinking*``: Model Studio's
  error-code page, "The open source Qwen3 models do not support non-streaming output"; DashScope's
  "only support stream mode"), and any hybrid model while it
  thinks ("parameter.enable_thinking must be set to false for non-streaming calls"). DeepSeek-R1
  thinks but also answers non-streaming calls.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterable

# The generation models that exist, one pattern per line of models (a snapshot suffix may follow any).
# Sources: Model Studio's model list and notices (help.aliyun.com/zh/model-studio/models, notice 731);
# docs/models.md has the table with dates. Open-source sizes are as DashScope lists them.
GENERATION_LINES = (
    r"qwen-(plus|max|flash|long)",                                   # the commercial mainline
    r"qwen3-max",                                                    # Qwen3-Max (and -preview)
    r"qwen3\.[5-9]-(plus|flash|max)",                               # Qwen3.5 … 3.9 (3.5–3.8 documented)
    r"qwen3\.[5-9]-\d+(\.\d+)?b(-a\d+b)?",                          # their open-source sizes
    r"qwen3-(0\.6|1\.7|4|8|14|32)b",                                 # open-source Qwen3, hybrid thinking
    r"qwen3-(30b-a3b|235b-a22b)(-(instruct|thinking)-2507)?",
    r"qwen3-next-80b-a3b-(instruct|thinking)",
    r"qwen2\.5-(\d+(\.\d+)?)b-instruct(-1m)?",
    r"qwen3-vl-(plus|flash)", r"qwen3-vl-\d+b(-a\d+b)?-(instruct|thinking)",  # vision
    r"qwen2\.5-vl-\d+b-instruct", r"qwen-vl-ocr",
    r"qwen-omni-turbo", r"qwen3-omni-flash", r"qwen3\.5-omni-(plus|flash)",  # omni
    r"qwen2\.5-omni-(3|7)b", r"qwen3-omni-30b-a3b-(instruct|thinking|captioner)",
    r"qwen-audio-turbo", r"qwen2-audio-instruct",                    # audio understanding
    r"qwen3-coder-(plus|flash)", r"qwen3-coder-\d+b-a\d+b-instruct",  # code
    r"qwen-mt-(plus|turbo|flash|lite)",                              # translation
    r"qwq-32b", r"qvq-plus", r"qvq-72b-preview",                     # open QwQ; QVQ-Plus (qvq-max retired)
    r"deepseek-r1(-0528)?", r"deepseek-r1-distill-(qwen|llama)-\d+(\.\d+)?b",  # third-party models
    r"deepseek-v3(\.\d)?(-exp)?", r"deepseek-v4(-flash|-pro)?",
    r"kimi-k2(\.\d)?(-thinking|-instruct)?", r"glm-4\.[5-9](-air)?", r"glm-5(\.\d)?",
)
SNAPSHOT = r"(-latest|-preview|-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4})?"
GENERATION_MODEL = re.compile(rf"({'|'.join(GENERATION_LINES)}){SNAPSHOT}", re.IGNORECASE)
EMBEDDING_MODEL = re.compile(r"text-embedding-v[1-4]|text-embedding-async-v[12]", re.IGNORECASE)
# Retired on 2026-10-10 (Model Studio notice 731), snapshots included: DashScope answers "Model not exist.".
RETIRED = re.compile(rf"(qwen-turbo|qwen-vl-max|qwen-vl-plus|qwq-plus|qvq-max){SNAPSHOT}", re.IGNORECASE)
MULTIMODAL_ONLY = re.compile(r"^qvq|-vl\b|-vl-|-omni|-audio|^qwen3\.[5-9]|^qwen[4-9]|^kimi-k2\.[5-9]|^kimi-k[3-9]")
THINKING_ONLY = re.compile(r"^qwq|^qvq|^deepseek-r1|-thinking")
NEVER_THINKS = re.compile(r"-instruct|coder|-mt-")
THINKING_BY_DEFAULT = re.compile(r"^qwen3\.[5-9]|^qwen[4-9]|^qwen3-\d+(\.\d+)?b")
STREAM_ONLY = re.compile(r"^qwq|^qvq|^qwen3-.*-thinking")
# DashScope's wording, kept exactly (the first one does end with a space).
STREAM_ONLY_MESSAGE = "This model only support stream mode, please enable the stream parameter to access the model. "
THINKING_NOT_STREAMED_MESSAGE = "parameter.enable_thinking must be set to false for non-streaming calls"
URL_ERROR_MESSAGE = "url error, please check url！ For details, see: https://help.aliyun.com/zh/model-studio/error-code#error-url"


def exists(model: str, extra: Iterable[str] = ()) -> bool:
    """Whether DashScope serves this generation model (`extra`: globs the emulator was told exist)."""
    if any(fnmatch.fnmatchcase(model.lower(), pattern.lower()) for pattern in extra):
        return True
    return not RETIRED.fullmatch(model) and bool(GENERATION_MODEL.fullmatch(model))


def embedding_exists(model: str, extra: Iterable[str] = ()) -> bool:
    return bool(EMBEDDING_MODEL.fullmatch(model)) or any(fnmatch.fnmatchcase(model.lower(), p.lower()) for p in extra)


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
