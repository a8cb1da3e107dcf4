"""The layering, checked on every test run: the import-linter contracts in .importlinter (core imports
neither Flask nor web nor handlers; only core/upstream/sdk.py imports dashscope; no door imports another;
the WSGI app never imports web/server/; no import cycle anywhere), and no module over 300 lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the function runs (and what the deploy package holds): the app, the doors, web/ and core/.
FUNCTION_CODE = ["app.py", "gunicorn.conf.py", "core", "web", "handlers"]
MAX_LINES = 300


def test_the_import_contracts_are_kept() -> None:
    lint = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"
    result = subprocess.run(
        [sys.executable, "-c", lint], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def _modules() -> list[Path]:
    found = []
    for name in FUNCTION_CODE:
        path = ROOT / name
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [path for path in found if "__pycache__" not in path.parts]


def test_no_module_is_over_300_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for path in _modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these modules (at most {MAX_LINES} lines each): {long}"
