"""What the views need from the app: its config and its upstream client, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from core.config import Config
from core.upstream import QwenUpstream

EXTENSION_KEY = "qwenfc"


@dataclass(frozen=True)
class Services:
    config: Config
    upstream: QwenUpstream


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
