#!/usr/bin/env bash
# Runs the function locally the way FC runs it: gunicorn, gunicorn.conf.py, app:create_app(), on
# http://127.0.0.1:${PORT:-9000}. With DASHSCOPE_API_KEY set, calls go to DashScope; without it, the
# bundled DashScope emulator answers instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

emulator_pid=""
cleanup() { [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -z "${DASHSCOPE_API_KEY:-}" ]; then
  emulator_port="${EMULATOR_PORT:-9100}"
  .venv/bin/python scripts/dashscope_emulator.py --port "$emulator_port" &
  emulator_pid=$!
  export DASHSCOPE_HTTP_BASE_URL="http://127.0.0.1:${emulator_port}/api/v1"
  export DASHSCOPE_API_KEY="emulator-local-fake-key"
  cat <<BANNER

  ###########################################################################
  #                                                                         #
  #   DASHSCOPE_API_KEY is not set: answers come from the LOCAL EMULATOR,   #
  #   not from Qwen. Export DASHSCOPE_API_KEY=sk-... to talk to DashScope.  #
  #                                                                         #
  ###########################################################################

BANNER
fi

export PATH="$PWD/.venv/bin:$PATH"
export TRY_PAGE="${TRY_PAGE:-1}"   # the try-it page on http://127.0.0.1:${PORT:-9000}/
python3 -m gunicorn --config gunicorn.conf.py 'app:create_app()'
