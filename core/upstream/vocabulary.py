"""The Qwen tokenizer's vocabulary where the FC package ships it packed.

The SDK reads dashscope/resources/qwen.tiktoken (2.6 MB: a line per token, the token in base64 and
its rank). The FC package ships it as qwen.tokens.xz instead (scripts/build_fc_package.py:
pack_vocabulary): xz of the base64 tokens alone, a line each in rank order, 0.6 MB against 1.1
zipped, part of what keeps the package under 10 MB. Only the tokenizer's first use reads it
(core/upstream/sdk.py), offline, in about 0.09 s more; FC's /code is read-only, so the SDK's file
is made again in the temporary folder (/tmp on FC), read by the SDK, and removed.
"""

from __future__ import annotations

import lzma
import os
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

VOCABULARY = "qwen.tiktoken"
PACKED = "qwen.tokens.xz"


def tiktoken_text(packed: bytes) -> bytes:
    """A packed vocabulary in qwen.tiktoken's own format: each token with its rank (its line's number)."""
    return b"".join([b"%s %d\n" % (token, rank) for rank, token in enumerate(lzma.decompress(packed).split(b"\n"))])


def vocabulary_file(resources: Path, load: Callable[[str], T]) -> T:
    """`load(path of qwen.tiktoken)`: the SDK's own file where it is, else one made from the packed
    vocabulary beside it for the length of the call (a file of this process's own: no other worker
    sees it half written)."""
    if (resources / VOCABULARY).exists() or not (resources / PACKED).exists():
        return load(str(resources / VOCABULARY))
    descriptor, path = tempfile.mkstemp(prefix="qwen-", suffix=".tiktoken")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(tiktoken_text((resources / PACKED).read_bytes()))
        return load(path)
    finally:
        os.unlink(path)
