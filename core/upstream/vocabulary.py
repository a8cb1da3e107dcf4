"""The Qwen tokenizer's vocabulary where the FC package ships it packed.

The SDK reads dashscope/resources/qwen.tiktoken (2.6 MB: a line per token, the token in base64 and
its rank). The FC package ships it as qwen.tokens.xz instead (scripts/build_fc_package.py:
pack_vocabulary): xz of each token's bytes behind a byte giving their length, in rank order, 0.57
MB against 1.1 zipped, which is what keeps the package under 10 MB. Only the tokenizer's first use
reads it (core/upstream/sdk.py), offline; FC's /code is read-only, so the SDK's file is made again
in the temporary folder (/tmp on FC), read by the SDK, and removed.
"""

from __future__ import annotations

import base64
import lzma
import os
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

VOCABULARY = "qwen.tiktoken"
PACKED = "qwen.tokens.xz"


def unpack(packed: bytes) -> list[bytes]:
    """The tokens of a packed vocabulary, in rank order."""
    data = lzma.decompress(packed)
    tokens, at = [], 0
    while at < len(data):
        end = at + 1 + data[at]
        tokens.append(data[at + 1:end])
        at = end
    return tokens


def tiktoken_text(tokens: list[bytes]) -> bytes:
    """The tokens in qwen.tiktoken's own format."""
    return b"".join(base64.b64encode(token) + b" %d\n" % rank for rank, token in enumerate(tokens))


def vocabulary_file(resources: Path, load: Callable[[str], T]) -> T:
    """`load(path of qwen.tiktoken)`: the SDK's own file where it is, else one made from the packed
    vocabulary beside it for the length of the call (a file of this process's own: no other worker
    sees it half written)."""
    if (resources / VOCABULARY).exists() or not (resources / PACKED).exists():
        return load(str(resources / VOCABULARY))
    descriptor, path = tempfile.mkstemp(prefix="qwen-", suffix=".tiktoken")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(tiktoken_text(unpack((resources / PACKED).read_bytes())))
        return load(path)
    finally:
        os.unlink(path)
