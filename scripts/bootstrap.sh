#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs one requirements file into it: requirements.txt (what the
# function runs, for scripts/run-local.sh) or requirements-dev.txt (that plus the test and benchmark
# tools, for scripts/test.sh). Safe to run repeatedly.
#   scripts/bootstrap.sh requirements.txt | requirements-dev.txt
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:?which requirements file: requirements.txt (run) or requirements-dev.txt (tests)}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# requirements.txt pins every package the function runs, and nothing the DashScope SDK merely declares
# (fastapi, opentelemetry, ...): installed alone it goes in as it is (--no-deps), as in the FC package.
no_deps=()
[ "$requirements" != requirements.txt ] || no_deps=(--no-deps)
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${no_deps[@]}" -r "$requirements"
