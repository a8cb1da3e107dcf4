"""Fixtures the app tier's emulator tests share (the rest come from tests/conftest.py)."""

from __future__ import annotations

from typing import Iterator

import dashscope
import pytest

from scripts.dashscope_emulator import Emulator


@pytest.fixture(scope="module")
def strict() -> Iterator[Emulator]:
    """An emulator that answers a model on the wrong endpoint with "url error", as DashScope does."""
    emulator = Emulator(strict_endpoints=True).start()
    yield emulator
    emulator.stop()

EMULATOR_KEY = "sk-emulator-test-key-0000"


@pytest.fixture
def sdk(strict: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The real dashscope SDK pointed at the strict emulator: it reads its base URL per call (the upload
    handshake too), and its key from here. The emulator's history starts empty."""
    monkeypatch.setattr(dashscope, "base_http_api_url", strict.base_url)
    monkeypatch.setattr(dashscope, "api_key", EMULATOR_KEY)
    strict.clear()
    return strict
