#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs the dev requirements into it. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
