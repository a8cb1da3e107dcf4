"""The tokenizer's vocabulary as the FC package ships it: packed by the build
(scripts/build_fc_package.py), read back by core/upstream/vocabulary.py into the SDK's own file,
and the tokenizer built from it counts as the SDK's own does."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from dashscope.tokenizers import tokenizer as sdk_tokenizer

from core.upstream.vocabulary import vocabulary_file
from scripts.build_fc_package import pack_vocabulary

SDK_RESOURCES = Path(sdk_tokenizer.root_path) / "resources"


def test_the_packed_vocabulary_gives_back_the_sdks_file_and_its_tokenizer(tmp_path):
    shutil.copy(SDK_RESOURCES / "qwen.tiktoken", tmp_path / "qwen.tiktoken")
    pack_vocabulary(tmp_path / "qwen.tiktoken")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["qwen.tokens.xz"]
    assert (tmp_path / "qwen.tokens.xz").stat().st_size < 650_000  # the SDK's file: 2.6 MB

    made: list[str] = []

    def read(path: str) -> bytes:
        made.append(path)
        return Path(path).read_bytes()

    assert vocabulary_file(tmp_path, read) == (SDK_RESOURCES / "qwen.tiktoken").read_bytes()
    # Made in the temporary folder (FC's /code is read-only), and gone once read.
    assert Path(made[0]).parent == Path(tempfile.gettempdir()) and not Path(made[0]).exists()

    packed = vocabulary_file(tmp_path, sdk_tokenizer.QwenTokenizer)
    own = vocabulary_file(SDK_RESOURCES, sdk_tokenizer.QwenTokenizer)
    text = "你好，世界! Hello world 123 <|im_start|>"
    assert packed.encode(text) == own.encode(text) and len(own.encode(text)) > 5
