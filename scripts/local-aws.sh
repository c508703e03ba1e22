#!/usr/bin/env bash
# Local stand-ins for DynamoDB and S3, on free 127.0.0.1 ports (docs/LOCAL_AWS.md tells the details).
#
#   scripts/local-aws.sh start  [--backend local|moto] [--state-dir DIR]
#   scripts/local-aws.sh status [--backend local|moto] [--state-dir DIR]
#   scripts/local-aws.sh stop   [--backend local|moto] [--state-dir DIR]
#
# Backends:
#   local  dynalite (DynamoDB) + s3rver (S3), npm packages pinned in tools/local-aws.
#   moto   one moto_server for both services, with SigV4 signature checking switched on and an IAM
#          user whose access key the env file carries.
# State dir (default <repo>/.local-aws/<backend>): PID files, logs, server data, and `env`, lines
# KEY=VALUE to source (set -a; . "$STATE/env"; set +a) or to hand to a test (EAGLESENSE_TEST_ENV_FILE).
# start is idempotent (already running: prints the status, exits 0). status exits 0 when everything
# of the backend runs, 3 otherwise. stop and status without --backend/--state-dir act on both backends.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

readonly LOCAL_AWS_DIR="$ES_REPO_ROOT/tools/local-aws"
readonly REGION="us-east-1"
readonly READY_TIMEOUT_S=60
readonly START_ATTEMPTS=5
# moto: the number of unauthenticated calls the auth setup makes (CreateUser, CreateAccessKey,
# CreatePolicy, AttachUserPolicy). Every later call must be signed with the created key.
readonly MOTO_NO_AUTH_CALLS=4

usage() {
  es_usage >&2
  exit 2
}

command_name="${1:-}"
[[ -n "$command_name" ]] || usage
shift
backend=""
state_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --backend)
      [[ $# -ge 2 ]] || es_die "--backend needs a value: local or moto"
      backend="$2"
      shift
      ;;
    --state-dir)
      [[ $# -ge 2 ]] || es_die "--state-dir needs a directory"
      state_dir="$2"
      shift
      ;;
    -h | --help) usage ;;
    *) es_die "unknown option '$1' (allowed: --backend local|moto, --state-dir DIR)" ;;
  esac
  shift
done
case "$command_name" in start | stop | status) ;; -h | --help) usage ;; *) es_die "unknown command '$command_name' (start, stop, status)" ;; esac
case "${backend:-local}" in local | moto) ;; *) es_die "unknown backend '$backend' (allowed: local, moto)" ;; esac

servers_of() { if [[ "$1" == local ]]; then echo "dynalite s3rver"; else echo "moto"; fi; }

# --- process helpers --------------------------------------------------------------------------------

# is_alive PID: the process exists and is not a zombie.
is_alive() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
  [[ "$state" != Z && "$state" != X ]]
}

# group_alive PGID: some live (non-zombie) process is in that process group.
group_alive() {
  local pgid="$1" p
  for p in $(ps -e -o pid=,pgid= | awk -v g="$pgid" '$2 == g { print $1 }'); do
    is_alive "$p" && return 0
  done
  return 1
}

# server_pid STATE NAME: prints the PID of a running server we started, or returns 1. The command line
# is checked too, so a PID reused by an unrelated process after a reboot is never taken for ours.
server_pid() {
  local state="$1" name="$2" pid pattern
  [[ -f "$state/$name.pid" ]] || return 1
  pid="$(cat "$state/$name.pid" 2>/dev/null || true)"
  is_alive "$pid" || return 1
  case "$name" in
    dynalite) pattern="dynalite" ;;
    s3rver) pattern="s3rver" ;;
    moto) pattern="moto_server" ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$pattern" || return 1
  echo "$pid"
}

free_port() {
  "$ES_SYSTEM_PYTHON" -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# http_code URL [curl args...]: the HTTP status the server answers with, 000 when nothing answers.
http_code() {
  local url="$1"
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@" "$url" 2>/dev/null || true
}

# listens_on PID PORT: PID owns the listening socket on 127.0.0.1:PORT (so the answer we got came from
# our server, not from a process that won the port in a race).
listens_on() {
  local pid="$1" port="$2"
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$pid,"
  else
    is_alive "$pid"
  fi
}

probe() {
  local name="$1" port="$2"
  case "$name" in
    dynalite)
      # Any HTTP answer will do (unsigned, dynalite says 400 MissingAuthenticationToken).
      [[ "$(http_code "http://127.0.0.1:$port/" -X POST -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
        -H 'Content-Type: application/x-amz-json-1.0' -d '{}')" != 000 ]]
      ;;
    s3rver) [[ "$(http_code "http://127.0.0.1:$port/")" != 000 ]] ;;
    # /moto-api/ is moto's own dashboard: it does not count as an action for INITIAL_NO_AUTH_ACTION_COUNT.
    moto) [[ "$(http_code "http://127.0.0.1:$port/moto-api/")" == 200 ]] ;;
  esac
}

# server_command NAME PORT STATE: sets SERVER_CMD to the command line that starts that server.
server_command() {
  local name="$1" port="$2" state="$3"
  case "$name" in
    dynalite)
      SERVER_CMD=(node "$LOCAL_AWS_DIR/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port"
        --createTableMs 0 --deleteTableMs 0 --updateTableMs 0)
      ;;
    s3rver)
      # --openssl-legacy-provider: s3rver 3.7 encrypts ListObjectsV2 continuation tokens with a cipher
      # that Node 20's OpenSSL 3 refuses by default; without it the second page answers 500.
      SERVER_CMD=(node --openssl-legacy-provider "$LOCAL_AWS_DIR/node_modules/s3rver/bin/s3rver.js"
        --directory "$state/s3rver-data" --address 127.0.0.1 --port "$port" --silent)
      ;;
    moto) SERVER_CMD=("$MOTO_SERVER" -H 127.0.0.1 -p "$port") ;;
  esac
}

# start_server STATE NAME: starts one server on a free port, waits until it answers HTTP on that port,
# records NAME.pid and NAME.port. Retries with another port when the server dies (port taken) or
# someone else answers.
start_server() {
  local state="$1" name="$2" attempt port pid deadline
  local log="$state/$name.log"
  for ((attempt = 1; attempt <= START_ATTEMPTS; attempt++)); do
    port="$(free_port)"
    server_command "$name" "$port" "$state"
    echo "--- $(date -u +%FT%TZ) start attempt $attempt on port $port: ${SERVER_CMD[*]}" >>"$log"
    # setsid: the server leads its own process group, so stop can end it and anything it spawned.
    # stdin/stdout/stderr are detached from the caller: ctest waits for a test's pipes to close.
    if [[ "$name" == moto ]]; then
      INITIAL_NO_AUTH_ACTION_COUNT="$MOTO_NO_AUTH_CALLS" setsid "${SERVER_CMD[@]}" </dev/null >>"$log" 2>&1 &
    else
      setsid "${SERVER_CMD[@]}" </dev/null >>"$log" 2>&1 &
    fi
    pid=$!
    echo "$pid" >"$state/$name.pid"
    deadline=$((SECONDS + READY_TIMEOUT_S))
    while ((SECONDS < deadline)); do
      if ! is_alive "$pid"; then
        break
      fi
      if probe "$name" "$port" && listens_on "$pid" "$port"; then
        echo "$port" >"$state/$name.port"
        es_log "$name running: pid $pid, http://127.0.0.1:$port"
        return 0
      fi
      sleep 0.1
    done
    if is_alive "$pid"; then
      es_warn "$name (pid $pid) did not answer on port $port within ${READY_TIMEOUT_S}s"
      stop_pid "$pid"
    else
      es_warn "$name exited at start on port $port (attempt $attempt); log: $log"
    fi
    rm -f "$state/$name.pid"
  done
  es_warn "last lines of $log:"
  tail -n 20 "$log" >&2 || true
  return 1
}

# stop_pid PID: TERM to the process group, wait up to 10 s, then KILL.
stop_pid() {
  local pid="$1" i
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    if ! is_alive "$pid" && ! group_alive "$pid"; then
      return 0
    fi
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    is_alive "$pid" || return 0
    sleep 0.1
  done
  es_warn "pid $pid did not exit"
  return 1
}

# --- commands --------------------------------------------------------------------------------------

status_backend() {
  local be="$1" state="$2" name pid all=0
  for name in $(servers_of "$be"); do
    if pid="$(server_pid "$state" "$name")"; then
      echo "$be/$name: running, pid $pid, http://127.0.0.1:$(cat "$state/$name.port" 2>/dev/null || echo '?')"
    else
      echo "$be/$name: not running"
      all=3
    fi
  done
  if [[ $all -eq 0 && -f "$state/env" ]]; then
    echo "$be: env file $state/env"
  else
    all=3
  fi
  return $all
}

stop_backend() {
  local be="$1" state="$2" name pid stopped=0
  for name in $(servers_of "$be"); do
    if pid="$(server_pid "$state" "$name")"; then
      stop_pid "$pid"
      es_log "$be/$name stopped (pid $pid)"
      stopped=1
    fi
    rm -f "$state/$name.pid" "$state/$name.port"
  done
  rm -f "$state/env"
  [[ $stopped -eq 1 ]] || es_log "$be: nothing was running"
}

write_env() {
  local state="$1"
  shift
  printf '%s\n' "$@" >"$state/env.tmp"
  mv "$state/env.tmp" "$state/env"
}

start_local() {
  local state="$1"
  es_npm_ci_if_needed
  command -v node >/dev/null 2>&1 || es_die "node is missing: run scripts/setup.sh"
  rm -rf "$state/s3rver-data"
  mkdir -p "$state/s3rver-data"
  start_server "$state" dynalite || return 1
  start_server "$state" s3rver || return 1
  write_env "$state" \
    "EAGLESENSE_BACKEND=local" \
    "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(cat "$state/dynalite.port")" \
    "AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(cat "$state/s3rver.port")" \
    "AWS_ACCESS_KEY_ID=S3RVER" \
    "AWS_SECRET_ACCESS_KEY=S3RVER" \
    "AWS_REGION=$REGION" \
    "AWS_DEFAULT_REGION=$REGION" \
    "AWS_EC2_METADATA_DISABLED=true"
}

start_moto() {
  local state="$1" endpoint
  local key_file="$state/moto-key"
  MOTO_SERVER="$(es_find_tool moto_server)" ||
    es_die "moto_server not found on PATH or under \$HOME/.pyenv/versions/*/bin: the moto backend needs" \
      "moto 5 (pip package 'moto[server]') in some Python; the machine image's pyenv Python ships it"
  es_system_python_has boto3 ||
    es_die "$ES_SYSTEM_PYTHON cannot import boto3: install Debian's python3-boto3 (scripts/setup.sh does)"
  start_server "$state" moto || return 1
  endpoint="http://127.0.0.1:$(cat "$state/moto.port")"
  if ! "$ES_SYSTEM_PYTHON" "$ES_REPO_ROOT/tests/tools/moto_auth_setup.py" --endpoint "$endpoint" \
    --region "$REGION" --no-auth-calls "$MOTO_NO_AUTH_CALLS" --key-file "$key_file" >>"$state/moto.log" 2>&1; then
    es_warn "moto auth setup failed; last lines of $state/moto.log:"
    tail -n 20 "$state/moto.log" >&2 || true
    return 1
  fi
  local access_key secret_key
  read -r access_key secret_key <"$key_file"
  write_env "$state" \
    "EAGLESENSE_BACKEND=moto" \
    "AWS_ENDPOINT_URL_DYNAMODB=$endpoint" \
    "AWS_ENDPOINT_URL_S3=$endpoint" \
    "AWS_ACCESS_KEY_ID=$access_key" \
    "AWS_SECRET_ACCESS_KEY=$secret_key" \
    "AWS_REGION=$REGION" \
    "AWS_DEFAULT_REGION=$REGION" \
    "AWS_EC2_METADATA_DISABLED=true"
}

start_backend() {
  local be="$1" state="$2"
  if status_backend "$be" "$state" >/dev/null 2>&1; then
    es_log "$be: already running"
    status_backend "$be" "$state"
    return 0
  fi
  stop_backend "$be" "$state" >/dev/null 2>&1 || true # leftovers of a half-started backend
  mkdir -p "$state"
  if ! "start_$be" "$state"; then
    stop_backend "$be" "$state" >/dev/null 2>&1 || true
    es_die "$be: start failed (logs in $state)"
  fi
  status_backend "$be" "$state"
}

default_state() { echo "$ES_REPO_ROOT/.local-aws/$1"; }

if [[ -z "$backend" && -z "$state_dir" && "$command_name" != start ]]; then
  rc=0
  for be in local moto; do
    "${command_name}_backend" "$be" "$(default_state "$be")" || rc=$?
  done
  exit $rc
fi
backend="${backend:-local}"
state_dir="${state_dir:-$(default_state "$backend")}"
if [[ "$command_name" == start ]]; then
  mkdir -p "$state_dir"
fi
if [[ -d "$state_dir" ]]; then
  state_dir="$(cd "$state_dir" && pwd)"
fi
"${command_name}_backend" "$backend" "$state_dir"
