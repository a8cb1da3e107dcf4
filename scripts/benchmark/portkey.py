"""The second peer: the Portkey AI gateway (npm `@portkey-ai/gateway`, a Node server), installed into
its own prefix under .tools/portkey (never a project dependency, and apart from .tools/node_modules'
CLIs), relaying the same work to the emulator's compatible mode through its `dashscope` provider
with a custom host, as its docs route any OpenAI-compatible upstream.

- Portkey 1.15.2's streams fail ("TypeError: immutable", Portkey issues #1389 and #1550) with the
  newest hono / @hono/node-server: npm `overrides` pin the versions its own package-lock names.
- It has no host option (its start-server passes only a port to @hono/node-server's serve, which
  then listens on every interface): loopback.mjs, loaded with `node --import`, binds it to
  127.0.0.1.
- Run as in production: NODE_ENV=production and --headless (no console UI, no log stream).
- The OSS gateway has no token of its own: the caller sends the provider's key (Authorization) and
  the routing headers with every call (`headers`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from scripts.benchmark.common import KEY, ROOT
from scripts.fc_process import free_port, start_server

VERSION = "1.15.2"
OVERRIDES = {"hono": "4.9.7", "@hono/node-server": "1.13.5"}
PREFIX = ROOT / ".tools" / "portkey"
SERVER = PREFIX / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
LOOPBACK = Path(__file__).resolve().parent / "loopback.mjs"
PACKAGE = {"name": "qwen-fc-benchmark-portkey", "private": True,
           "dependencies": {"@portkey-ai/gateway": VERSION}, "overrides": OVERRIDES}


def installed_version() -> str | None:
    try:
        return json.loads((SERVER.parents[1] / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def install(timeout_s: float | None = None) -> None:
    """npm install into .tools/portkey (reused when it already holds the version and the pins)."""
    manifest = PREFIX / "package.json"
    if installed_version() == VERSION and manifest.exists() and json.loads(manifest.read_text()) == PACKAGE:
        return
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed: the Portkey peer is an npm package")
    print(f"installing @portkey-ai/gateway@{VERSION} into {PREFIX.relative_to(ROOT)} (once)", file=sys.stderr)
    PREFIX.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(PACKAGE, indent=2) + "\n")
    # --ignore-scripts: nothing of the gateway's needs building (its build/ is shipped), and no
    # package's install script runs on this machine.
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(PREFIX)],
                   check=True, stdout=subprocess.DEVNULL, timeout=timeout_s)


def headers(compatible_base_url: str) -> dict[str, str]:
    """What a caller sends Portkey with each call: the provider, where it is, and its key."""
    return {"x-portkey-provider": "dashscope", "x-portkey-custom-host": compatible_base_url, "Authorization": f"Bearer {KEY}"}


def environment() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "NODE_ENV": "production",
            "NO_PROXY": "127.0.0.1,localhost"}


def start_portkey(_compatible_base_url: str = "", _config_dir: Path | None = None) -> tuple[subprocess.Popen, str]:
    """The gateway on a free loopback port (the upstream comes with each call: `headers`)."""
    port = free_port()
    command = ["node", "--import", LOOPBACK.as_uri(), str(SERVER), f"--port={port}", "--headless"]
    return start_server(command, environment(), port, ready_path="/")
