#!/usr/bin/env bash
# Runs the function locally the way FC runs it: gunicorn, gunicorn.conf.py, app:create_app(), on
# http://127.0.0.1:${PORT:-9000} (HOST=0.0.0.0 to let other machines in; FC's own default is 0.0.0.0).
# With DASHSCOPE_API_KEY set, calls go to DashScope; without it, the bundled DashScope emulator answers
# instead, on ${EMULATOR_PORT:-9100}. With a key and DASHSCOPE_HTTP_BASE_URL pointing at the emulator's
# port on this machine, the emulator starts too and gets that key (`sk-invalid` shows a refused key).
# Callers: when redis-server is installed and neither REDIS_URL nor CALLERS is set, a local
# redis-server (no persistence: callers last as long as this run) starts on ${LOCAL_REDIS_PORT:-6380}
# and REDIS_URL points at it, so `REDIS_URL=redis://127.0.0.1:6380/0 scripts/callers add NAME` works.
# Only the runtime requirements (requirements.txt) are installed: the tests install the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${PORT:-9000}"
emulator_port="${EMULATOR_PORT:-9100}"
# Local runs listen on loopback only, as the README says; gunicorn.conf.py's default (FC's) is 0.0.0.0.
export HOST="${HOST:-127.0.0.1}"
# The emulator runs when no key is set, or when DASHSCOPE_HTTP_BASE_URL names its port here.
start_emulator=""
if [ -z "${DASHSCOPE_API_KEY:-}" ]; then
  start_emulator="no key"
elif [[ "${DASHSCOPE_HTTP_BASE_URL:-}" =~ ^http://(127\.0\.0\.1|localhost):${emulator_port}(/|$) ]]; then
  start_emulator="base url"
fi

# Refuse to start on a port something else holds: the function would otherwise talk to whatever
# answers there (the emulator's port), or gunicorn would retry binding for a while and give up.
port_is_taken() {
  python3 - "$1" <<'PY'
import socket, sys
with socket.socket() as probe:
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn and the emulator bind
    try:
        probe.bind(("0.0.0.0", int(sys.argv[1])))
    except OSError:
        sys.exit(0)
sys.exit(1)
PY
}
refuse_if_taken() {  # port, the variable that sets it, what it is for
  if port_is_taken "$1"; then
    echo "run-local.sh: port $1 ($3) is already in use. Stop what holds it, or choose another port: $2=<port> scripts/run-local.sh" >&2
    exit 1
  fi
}
refuse_if_taken "$port" PORT "the function"
if [ -n "$start_emulator" ]; then
  [ "$emulator_port" != "$port" ] || { echo "run-local.sh: PORT and EMULATOR_PORT are both $port: give them different ports" >&2; exit 1; }
  refuse_if_taken "$emulator_port" EMULATOR_PORT "the DashScope emulator"
fi

local_redis=""
if [ -z "${REDIS_URL:-}" ] && [ -z "${CALLERS:-}" ] && command -v redis-server >/dev/null 2>&1; then
  local_redis="${LOCAL_REDIS_PORT:-6380}"
  refuse_if_taken "$local_redis" LOCAL_REDIS_PORT "the local redis-server for callers"
fi

scripts/bootstrap.sh requirements.txt

emulator_pid=""
redis_pid=""
redis_dir=""
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  [ -n "$redis_dir" ] && rm -rf "$redis_dir" || true
}
trap cleanup EXIT INT TERM

if [ -n "$local_redis" ]; then
  redis_dir="$(mktemp -d)"
  redis-server --port "$local_redis" --bind 127.0.0.1 --dir "$redis_dir" --save '' --appendonly no \
    --daemonize no --loglevel warning &
  redis_pid=$!
  export REDIS_URL="redis://127.0.0.1:${local_redis}/0"
  echo "run-local.sh: callers in a local redis-server (until this run stops): REDIS_URL=$REDIS_URL scripts/callers add NAME"
fi

if [ -n "$start_emulator" ]; then
  .venv/bin/python scripts/dashscope_emulator.py --port "$emulator_port" &
  emulator_pid=$!
fi
if [ "$start_emulator" = "base url" ]; then
  echo "run-local.sh: DASHSCOPE_HTTP_BASE_URL names the local emulator (port $emulator_port): it answers, with your DASHSCOPE_API_KEY"
elif [ "$start_emulator" = "no key" ]; then
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
