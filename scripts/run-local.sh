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
# Once the function answers it prints where it is; Ctrl-C stops everything it started.
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
local_redis=""
if [ -z "${REDIS_URL:-}" ] && [ -z "${CALLERS:-}" ] && command -v redis-server > /dev/null 2>&1; then
  local_redis="${LOCAL_REDIS_PORT:-6380}"
fi

# Refuse to start on a port something else holds (the function would otherwise talk to whatever
# answers there, or gunicorn would retry binding for a while and give up), naming every one at once.
wanted=("$port PORT the function")
[ -z "$start_emulator" ] || wanted+=("$emulator_port EMULATOR_PORT the DashScope emulator")
[ -z "$local_redis" ] || wanted+=("$local_redis LOCAL_REDIS_PORT the local redis-server for callers")
python3 - "${wanted[@]}" <<'PY'
import socket, sys
ports = [entry.split(" ", 2) for entry in sys.argv[1:]]  # port, its variable, what it is for
problems, seen = [], {}
for port, variable, what in ports:
    if port in seen:
        problems.append(f"{variable} and {seen[port]} are both {port}: give them different ports")
        continue
    seen[port] = variable
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn, the emulator and redis bind
        try:
            probe.bind(("0.0.0.0", int(port)))
        except OSError:
            problems.append(f"port {port} ({what}) is already in use: {variable}=<port>")
if problems:
    taken = [p.split(": ")[1] for p in problems if "already in use" in p]
    print("run-local.sh: cannot start:\n" + "\n".join(f"  - {p}" for p in problems), file=sys.stderr)
    if taken:
        print(f"Stop what holds them, or choose other ports: {' '.join(taken)} scripts/run-local.sh", file=sys.stderr)
    sys.exit(1)
PY

scripts/bootstrap.sh requirements.txt

emulator_pid=""
redis_pid=""
redis_dir=""
server_pid=""
stopping=""
stop_all() {  # everything this run started, at once (Ctrl-C reaches them too: this is for the rest)
  [ -z "$stopping" ] || return 0
  stopping=1
  [ -z "$server_pid" ] || kill -INT "$server_pid" 2> /dev/null || true  # gunicorn's quick stop
  [ -z "$emulator_pid" ] || kill "$emulator_pid" 2> /dev/null || true
  [ -z "$redis_pid" ] || kill "$redis_pid" 2> /dev/null || true
  wait 2> /dev/null || true
  [ -z "$redis_dir" ] || rm -rf "$redis_dir"
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

if [ -n "$local_redis" ]; then
  redis_dir="$(mktemp -d)"
  # Its start-up notes (memory overcommit, ...) concern a Redis that saves to disk: this one does not.
  redis-server --port "$local_redis" --bind 127.0.0.1 --dir "$redis_dir" --save '' --appendonly no \
    --daemonize no --loglevel warning > "$redis_dir/redis.log" 2>&1 &
  redis_pid=$!
  export REDIS_URL="redis://127.0.0.1:${local_redis}/0"
fi

if [ -n "$start_emulator" ]; then
  .venv/bin/python scripts/dashscope_emulator.py --port "$emulator_port" > /dev/null &
  emulator_pid=$!
fi
answers="DashScope"
if [ "$start_emulator" = "base url" ]; then
  answers="the local DashScope emulator (DASHSCOPE_HTTP_BASE_URL names port $emulator_port), with your DASHSCOPE_API_KEY"
elif [ "$start_emulator" = "no key" ]; then
  export DASHSCOPE_HTTP_BASE_URL="http://127.0.0.1:${emulator_port}/api/v1"
  export DASHSCOPE_API_KEY="emulator-local-fake-key"
  answers="the LOCAL EMULATOR, not Qwen"
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
echo "run-local.sh: starting the function on port $port …"
python3 -m gunicorn --config gunicorn.conf.py 'app:create_app()' &
server_pid=$!

# Once it answers, say where it is.
url="http://127.0.0.1:$port"
if python3 scripts/wait_until_up.py "$url/health" "$server_pid"; then
  auth=""
  [ -z "${INVOKE_TOKEN:-}" ] || auth=' -H "Authorization: Bearer $INVOKE_TOKEN"'
  {
    echo
    echo "  The function is up, answering with $answers:"
    echo "    function:     $url   (POST /invoke, /v1/chat/completions, /api/v1/...)"
    [ "$TRY_PAGE" != 1 ] || echo "    try-it page:  $url/"
    echo "    try:          curl $url/invoke$auth --data-binary '如何做西红柿炖牛腩?'"
    [ -z "$local_redis" ] || echo "    callers:      REDIS_URL=$REDIS_URL scripts/callers add NAME   (kept until this run stops)"
    echo "  Ctrl-C stops it."
    echo
  } >&2
fi
wait "$server_pid"
