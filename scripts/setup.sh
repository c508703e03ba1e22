#!/usr/bin/env bash
# Installs what EagleSense needs and builds it. Idempotent; fast when nothing is missing.
#
#   scripts/setup.sh [--no-build] [--sanitize] [--build-dir DIR]
#
# 1. Debian packages listed in scripts/lib/packages.txt: only the missing ones are installed
#    (apt-get update runs once, and only when something is missing).
# 2. npm packages of tools/local-aws (dynalite, s3rver) from the committed lockfile (npm ci), if needed.
# 3. Checks that moto_server and cfn-lint can be found (warns if not: they come with the machine
#    image's Python, not with Debian).
# 4. Configures and builds Release into build/ (build-asan/ with --sanitize), giving build/eaglesense.
#    With CI=true warnings are errors (-DEAGLESENSE_WERROR=ON).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

build=1
sanitize=0
build_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build=0 ;;
    --sanitize) sanitize=1 ;;
    --build-dir)
      [[ $# -ge 2 ]] || es_die "--build-dir needs a directory"
      build_dir="$2"
      shift
      ;;
    -h | --help)
      es_usage
      exit 0
      ;;
    *) es_die "unknown option '$1' (allowed: --no-build, --sanitize, --build-dir DIR)" ;;
  esac
  shift
done

# --- 1. Debian packages -------------------------------------------------------------------------
wanted=()
while read -r pkg cmd _; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  if [[ -n "${cmd:-}" ]] && command -v "$cmd" >/dev/null 2>&1; then
    continue
  fi
  wanted+=("$pkg")
done <"$ES_REPO_ROOT/scripts/lib/packages.txt"
# One dpkg-query for all: packages never installed are missing from its output.
declare -A installed=()
while read -r pkg status; do
  if [[ "$status" == ii* ]]; then installed["${pkg%%:*}"]=1; fi
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for pkg in "${wanted[@]}"; do
  [[ -n "${installed[$pkg]:-}" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -gt 0 ]]; then
  es_log "installing missing Debian packages: ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || es_die "not root and no sudo: install as root: ${missing[*]}"
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- 2. npm packages for the local servers ----------------------------------------------------------
es_npm_ci_if_needed

# --- 3. Python tools from the machine image --------------------------------------------------------
if ! es_find_tool moto_server >/dev/null; then
  es_warn "moto_server not found on PATH or under \$HOME/.pyenv/versions/*/bin:" \
    "the integration tests on the 'moto' backend will fail (moto 5 ships with the machine image's Python)"
fi
if ! es_find_tool cfn-lint >/dev/null; then
  es_warn "cfn-lint not found on PATH or under \$HOME/.pyenv/versions/*/bin: cloudformation/ cannot be linted"
fi
if ! es_system_python_has boto3; then
  es_warn "$ES_SYSTEM_PYTHON cannot import boto3 (Debian package python3-boto3)"
fi

# --- 4. Configure and build ------------------------------------------------------------------------
[[ $build -eq 1 ]] || exit 0

cmake_args=(-G Ninja)
if [[ $sanitize -eq 1 ]]; then
  build_dir="${build_dir:-$ES_REPO_ROOT/build-asan}"
  cmake_args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEAGLESENSE_SANITIZE=ON)
else
  build_dir="${build_dir:-$ES_REPO_ROOT/build}"
  cmake_args+=(-DCMAKE_BUILD_TYPE=Release -DEAGLESENSE_SANITIZE=OFF)
fi
if [[ "${CI:-}" == "true" ]]; then
  cmake_args+=(-DEAGLESENSE_WERROR=ON)
fi

cache="$build_dir/CMakeCache.txt"
if [[ -f "$cache" ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$cache"; then
  es_die "$build_dir was configured with another generator than Ninja: remove it and run again"
fi
# Configure when there is no build tree yet or a setting differs from the cached one; otherwise the
# build itself re-runs CMake when a CMakeLists.txt or a globbed folder changed.
need_configure=0
if [[ ! -f "$cache" || ! -f "$build_dir/build.ninja" ]]; then
  need_configure=1
else
  for arg in "${cmake_args[@]}"; do
    [[ "$arg" == -D* ]] || continue
    kv="${arg#-D}"
    key="${kv%%=*}"
    value="${kv#*=}"
    grep -q "^${key}:[A-Z]*=${value}\$" "$cache" || need_configure=1
  done
fi
if [[ $need_configure -eq 1 ]]; then
  es_log "configuring $build_dir: ${cmake_args[*]}"
  cmake -S "$ES_REPO_ROOT" -B "$build_dir" "${cmake_args[@]}" >&2
fi
es_log "building $build_dir"
cmake --build "$build_dir" >&2
