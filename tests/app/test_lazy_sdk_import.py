"""The SDK's fast path (core/upstream/sdk.py `_import_generation`) is really taken: in a fresh
interpreter, importing the app, creating it and serving calls through the emulator loads Generation
and what it needs, never the rest of dashscope, and the package's own __init__ has not run."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import FAKE_KEY, ROOT

# Parts of the SDK a full `import dashscope` loads and a generation call never needs.
HEAVY = ["dashscope.audio", "dashscope.embeddings", "dashscope.v2", "dashscope.app", "dashscope.files", "dashscope.models", "dashscope.rerank", "dashscope.tokenizers"]

SERVE_AND_REPORT = """
import json, sys
{before}
import app
from core.config import Config
client = app.create_app(Config(dashscope_api_key={key!r}, dashscope_base_url={url!r})).test_client()
statuses = [
    client.post("/invoke", data="hello").status_code,
    client.post("/invoke?stream=true", data="a b c").status_code,
    client.post("/v1/chat/completions", json={{"messages": [{{"role": "user", "content": "hi"}}]}}).status_code,
]
package = sys.modules["dashscope"]
print(json.dumps({{
    "statuses": statuses,
    "loaded": sorted(name for name in sys.modules if name.startswith("dashscope")),
    "init_ran": "__getattr__" not in vars(package) or "Generation" in vars(package),
}}))
"""


def serve_in_a_fresh_interpreter(emulator, before: str = "") -> dict:
    script = SERVE_AND_REPORT.format(before=before, key=FAKE_KEY, url=emulator.base_url)
    finished = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr[-2000:]
    # The app's log lines share stdout (its writer may write them after the report, at the exit).
    return json.loads(next(line for line in finished.stdout.splitlines() if line.startswith('{"statuses"')))


def test_serving_calls_loads_only_what_generation_needs(emulator):
    report = serve_in_a_fresh_interpreter(emulator)
    assert report["statuses"] == [200, 200, 200]
    assert "dashscope.aigc.generation" in report["loaded"]
    assert [name for name in HEAVY if name in report["loaded"]] == []
    assert report["init_ran"] is False, "dashscope's __init__ ran: the whole SDK was loaded"

    # The check can tell: after an ordinary `import dashscope`, the same report names all of it.
    ordinary = serve_in_a_fresh_interpreter(emulator, before="import dashscope")
    assert ordinary["statuses"] == [200, 200, 200]
    assert [name for name in HEAVY if name in ordinary["loaded"]] == HEAVY
    assert ordinary["init_ran"] is True
