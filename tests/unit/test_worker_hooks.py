"""gunicorn's worker hooks (web/server/hooks.py), run in a fresh interpreter as a worker runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_AS_A_WORKER = """
import gc, types
import app  # a worker has loaded the app when gunicorn calls post_worker_init
from web.server.hooks import post_worker_init
before = gc.get_freeze_count()
post_worker_init(types.SimpleNamespace(cfg=types.SimpleNamespace(graceful_timeout=30)))
print(before, gc.get_freeze_count(), len(gc.get_objects()))
"""


def test_what_the_worker_loaded_is_frozen_out_of_the_collectors_walks() -> None:
    # With 200 streams in flight, each full collection walked the ~90,000 objects the app loaded:
    # frozen, collections cost a third (docs/performance.md).
    ran = subprocess.run([sys.executable, "-c", _AS_A_WORKER], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr
    before, frozen, still_walked = map(int, ran.stdout.split())
    assert before == 0
    assert frozen > 20_000 and still_walked < 1_000
