#!/usr/bin/env bash
# Runs every test: installs the dev requirements and the Serverless Devs CLI, builds the FC deploy
# package the way `s deploy` does (so the package itself is tested), then runs pytest. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
# The Serverless Devs CLI, from npm, so that tests render s.yaml exactly as `s deploy` would.
if [ ! -x .tools/node_modules/.bin/s ] && command -v npm > /dev/null; then
  npm install --prefix .tools --no-audit --no-fund --loglevel=error @serverless-devs/s@3.1.10 > /dev/null
fi
export PATH="$PWD/.venv/bin:$PATH"   # s.yaml's pre-deploy runs `python3 -m pip`: this one
python3 scripts/build_fc_package.py > /dev/null
exec .venv/bin/python -m pytest "$@"
