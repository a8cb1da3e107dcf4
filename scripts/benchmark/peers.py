"""The peers the benchmark can run beside the function (--peer, once or twice): each installs itself
under .tools/, starts in front of the emulator's compatible mode, and is called like an OpenAI
endpoint, against "direct-compat" (the OpenAI client calling compatible mode directly)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from scripts.benchmark import peer as litellm
from scripts.benchmark import portkey


@dataclass(frozen=True)
class Peer:
    name: str
    label: str  # its column's heading
    version: str
    how: str  # how it is run, for the table's note
    install: Callable[[], None]
    start: Callable[[str, Path], tuple[subprocess.Popen, str]]  # (compatible-mode URL, scratch dir)
    path: str  # its chat completions path
    headers: Callable[[str], dict[str, str]] = field(default=lambda _compatible_url: {})


PEERS: dict[str, Peer] = {
    "litellm": Peer("litellm", "LiteLLM proxy", litellm.VERSION, "1 worker, no database, logging off",
                    litellm.install, litellm.start_litellm, "/chat/completions"),
    "portkey": Peer("portkey", "Portkey gateway", portkey.VERSION,
                    f"one Node process, {' and '.join(f'{name} {version}' for name, version in portkey.OVERRIDES.items())} "
                    "pinned, dashscope provider with a custom host, production mode",
                    portkey.install, portkey.start_portkey, "/v1/chat/completions", portkey.headers),
}
