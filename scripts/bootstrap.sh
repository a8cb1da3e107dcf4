#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs one requirements file into it: requirements.txt (what the
# function runs, for scripts/run-local.sh) or requirements-dev.txt (that plus the test and benchmark
# tools, for scripts/test.sh). Safe to run repeatedly: once a file is installed (its contents, and
# requirements.txt's, recorded in .venv), pip is not run again until one of them changes.
#   scripts/bootstrap.sh requirements.txt | requirements-dev.txt
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:?which requirements file: requirements.txt (run) or requirements-dev.txt (tests)}"
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap.sh: creating .venv …"
  python3 -m venv .venv
fi
stamp=".venv/.installed-${requirements}"
wanted="$(cat "$requirements" requirements.txt | .venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ "$(cat "$stamp" 2> /dev/null)" = "$wanted" ]; then
  exit 0
fi
if [ "$requirements" = requirements.txt ]; then
  echo "bootstrap.sh: installing the function's packages into .venv (the first time: a minute or so) …"
else
  echo "bootstrap.sh: installing the test tools into .venv (the first time: a few minutes) …"
fi
# requirements.txt pins every package the function runs, and nothing the DashScope SDK merely declares
# (fastapi, opentelemetry, ...): installed alone it goes in as it is (--no-deps), as in the FC package.
no_deps=()
[ "$requirements" != requirements.txt ] || no_deps=(--no-deps)
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${no_deps[@]}" -r "$requirements"
echo "$wanted" > "$stamp"
