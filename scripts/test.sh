#!/usr/bin/env bash
# Runs every test, and installs what they need first: Debian's redis-server (the callers' tests start
# real ones), chromium and a CJK font (the try-it page's browser test) with apt-get when it runs as
# root on a machine with apt; the dev requirements into .venv; the Serverless Devs CLI into .tools.
# Then it builds the FC deploy package the way `s deploy` does (so the package itself is tested) and
# runs pytest. Extra arguments go to pytest. Without root or apt, a test whose tool is missing is
# skipped with the command that installs it (in CI, with CI set, it fails instead).
# The font is WenQuanYi Micro Hei (fonts-wqy-microhei, 1.6 MB): without a CJK font Chromium draws the
# page's Chinese as boxes, and the screenshots would not show what users see (fonts-noto-cjk is the
# usual one, but ~60 MB).
set -euo pipefail
cd "$(dirname "$0")/.."

missing_packages=()
command -v redis-server > /dev/null || missing_packages+=(redis-server)
command -v chromium > /dev/null || missing_packages+=(chromium)
[ -n "$(fc-list :lang=zh 2> /dev/null)" ] || missing_packages+=(fonts-wqy-microhei)
if [ "${#missing_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "test.sh: installing ${missing_packages[*]} with apt-get …"
    apt-get update -qq > /dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}" > /dev/null
  else
    echo "test.sh: ${missing_packages[*]} not installed and no root with apt-get: the tests that need them are skipped" \
      "(as root: apt-get install ${missing_packages[*]})" >&2
  fi
fi

scripts/bootstrap.sh requirements-dev.txt
# The Serverless Devs CLI, from npm, so that tests render s.yaml exactly as `s deploy` would.
if [ ! -x .tools/node_modules/.bin/s ] && command -v npm > /dev/null; then
  npm install --prefix .tools --no-audit --no-fund --loglevel=error @serverless-devs/s@3.1.10 > /dev/null
fi
# The Codex CLI, from npm, driven offline against /v1/responses (tests/server/test_codex_cli.py).
if [ ! -x .tools/node_modules/.bin/codex ] && command -v npm > /dev/null; then
  npm install --prefix .tools --no-audit --no-fund --loglevel=error @openai/codex@0.171.0 > /dev/null
fi
# Claude Code, from npm, run offline against the function and the emulator (tests/server/test_claude_code.py).
if [ ! -x .tools/node_modules/.bin/claude ] && command -v npm > /dev/null; then
  npm install --prefix .tools --no-audit --no-fund --loglevel=error @anthropic-ai/claude-code@2.1.332 > /dev/null
fi
export PATH="$PWD/.venv/bin:$PATH"   # s.yaml's pre-deploy runs `python3 -m pip`: this one
python3 scripts/build_fc_package.py > /dev/null
exec .venv/bin/python -m pytest "$@"
