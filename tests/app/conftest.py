"""Fixtures the app tier's emulator tests share (the rest come from tests/conftest.py)."""

from __future__ import annotations

from typing import Iterator

import pytest

from scripts.dashscope_emulator import Emulator


@pytest.fixture(scope="module")
def strict() -> Iterator[Emulator]:
    """An emulator that answers a model on the wrong endpoint with "url error", as DashScope does."""
    emulator = Emulator(strict_endpoints=True).start()
    yield emulator
    emulator.stop()
