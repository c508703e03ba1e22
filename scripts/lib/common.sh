# Shared helpers for scripts/*.sh. Source it; it defines functions and ES_REPO_ROOT, nothing else.
# shellcheck shell=bash

# The repository root, whatever the caller's working directory.
ES_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ES_REPO_ROOT

# Debian's interpreter: it is the one that sees python3-boto3 (the pyenv python3 first on PATH does not).
ES_SYSTEM_PYTHON="/usr/bin/python3"

# es_usage: prints the running script's header, its leading comment block from line 2 (after the
# shebang) up to the first line that is not a comment, each line without its "# " (or "#"). The
# caller chooses where it goes and how to exit: `es_usage; exit 0`, or `es_usage >&2; exit 2`.
es_usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

es_log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
es_warn() { printf '[%s] WARNING: %s\n' "$(basename "$0")" "$*" >&2; }
es_die() {
  printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# es_find_tool NAME: prints the path of a Python console script (moto_server, cfn-lint) or returns 1.
# Looks on PATH first, skipping pyenv shims (a shim only works when the selected pyenv version has
# the tool), then in every $HOME/.pyenv/versions/*/bin, newest version first.
es_find_tool() {
  local name="$1" candidate dir
  while IFS= read -r candidate; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    [[ "$candidate" == */.pyenv/shims/* ]] && continue
    printf '%s\n' "$candidate"
    return 0
  done < <(type -a -P "$name" 2>/dev/null || true)
  # shellcheck disable=SC2012 # version folder names have no spaces
  for dir in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin 2>/dev/null | sort -rV); do
    if [[ -x "$dir/$name" ]]; then
      printf '%s\n' "$dir/$name"
      return 0
    fi
  done
  # Last resort: a shim that resolves (pyenv reports which version provides the command).
  candidate="$(type -P "$name" 2>/dev/null || true)"
  if [[ -n "$candidate" ]] && command -v pyenv >/dev/null 2>&1 && pyenv which "$name" >/dev/null 2>&1; then
    pyenv which "$name"
    return 0
  fi
  return 1
}

# es_npm_ci_if_needed: installs tools/local-aws/node_modules from the committed lockfile when missing
# or older than the lockfile.
es_npm_ci_if_needed() {
  local dir="$ES_REPO_ROOT/tools/local-aws"
  local stamp="$dir/node_modules/.package-lock.json"
  if [[ -d "$dir/node_modules" && -f "$stamp" && ! "$dir/package-lock.json" -nt "$stamp" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || es_die "npm is missing: run scripts/setup.sh (installs Debian's nodejs and npm)"
  es_log "npm ci in tools/local-aws"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || es_die "npm ci failed in $dir"
}

# es_system_python_has MODULE: Debian's python3 can import MODULE (checked without importing it,
# which takes a second for boto3).
es_system_python_has() {
  "$ES_SYSTEM_PYTHON" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)' "$1" 2>/dev/null
}

# es_use_local_aws STATE_DIR KEEP: starts the local backend (dynalite + s3rver) in STATE_DIR, exports
# its endpoints and credentials into this shell, and (unless KEEP is 1) stops it when the script exits.
es_use_local_aws() {
  ES_LOCAL_AWS_STATE="$1"
  "$ES_REPO_ROOT/scripts/local-aws.sh" start --backend local --state-dir "$ES_LOCAL_AWS_STATE" >&2
  if [[ "${2:-0}" -ne 1 ]]; then
    trap '"$ES_REPO_ROOT/scripts/local-aws.sh" stop --backend local --state-dir "$ES_LOCAL_AWS_STATE" >&2' EXIT
  fi
  set -a
  # shellcheck disable=SC1091
  source "$ES_LOCAL_AWS_STATE/env"
  set +a
}
