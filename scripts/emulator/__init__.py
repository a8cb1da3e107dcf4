"""The DashScope emulator as a package; scripts/dashscope_emulator.py is its documented entry point
(and lists the fault directives)."""

from .app import COMPATIBLE_PATH, EMBEDDING_PATH, GENERATION_PATH, INVALID_KEY, MULTIMODAL_PATH, Emulator
from .directives import count_tokens, pieces

__all__ = [
    "COMPATIBLE_PATH", "EMBEDDING_PATH", "GENERATION_PATH", "INVALID_KEY", "MULTIMODAL_PATH", "Emulator",
    "count_tokens", "pieces",
]
