#!/usr/bin/env bash
# Runs every test: installs the dev requirements, builds the FC deploy package the way `s deploy`
# does (so the package itself is tested), then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"   # s.yaml's pre-deploy runs `python3 -m pip`: this one
python3 scripts/build_fc_package.py > /dev/null
exec .venv/bin/python -m pytest "$@"
