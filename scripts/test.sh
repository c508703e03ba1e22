#!/usr/bin/env bash
# Builds EagleSense and runs its whole test suite (ctest labels unit, integration, fault, fuzz), then
# the unit and integration tests again in an AddressSanitizer + UBSan build (~35 min in all on 2 cores).
#
#   scripts/test.sh [--label LABEL] [--sanitize] [--no-sanitizer-pass] [--long]
#
#   --label LABEL        run only the tests with that ctest label (ctest -L LABEL), e.g. unit
#   --sanitize           build with AddressSanitizer + UBSan into build-asan/ and test there only
#   --no-sanitizer-pass  the whole suite without the final sanitizer pass
#   --long               EAGLESENSE_LONG_TESTS=1: the long variants of tests that have one
#
# With CI=true the formatting is checked first (scripts/format.sh --check) and fails the run; locally
# unformatted files are only listed. The integration tests start and stop their local servers through
# ctest fixtures; a trap stops any that a crash or Ctrl-C left behind. Exits non-zero on any failure.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

label=""
sanitize=0
sanitizer_pass=1
long=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --label | -L)
      [[ $# -ge 2 ]] || es_die "--label needs a ctest label (unit, integration, fault)"
      label="$2"
      shift
      ;;
    --sanitize) sanitize=1 ;;
    --no-sanitizer-pass) sanitizer_pass=0 ;;
    --long) long=1 ;;
    -h | --help)
      es_usage
      exit 0
      ;;
    *) es_die "unknown option '$1' (allowed: --label LABEL, --sanitize, --no-sanitizer-pass, --long)" ;;
  esac
  shift
done

if [[ $sanitize -eq 1 ]]; then
  build_dir="$ES_REPO_ROOT/build-asan"
  setup_args=(--sanitize --build-dir "$build_dir")
else
  build_dir="$ES_REPO_ROOT/build"
  setup_args=(--build-dir "$build_dir")
fi

# Safety net: the fixtures' cleanup tests stop the servers; this catches a run that was interrupted.
stop_leftover_servers() {
  local state backend
  for state in "$build_dir"/local-aws/*/; do
    [[ -d "$state" ]] || continue
    if [[ -n "$(ls "$state"/*.pid 2>/dev/null)" ]]; then
      # The state folder's name is not always the backend (the fault suite's is "fault"): ask its env file.
      backend=$(sed -n 's/^EAGLESENSE_BACKEND=//p' "$state/env" 2>/dev/null)
      [[ -n "$backend" ]] || backend=$(basename "$state")
      "$ES_REPO_ROOT/scripts/local-aws.sh" stop --backend "$backend" --state-dir "$state" >/dev/null 2>&1 || true
    fi
  done
}
trap stop_leftover_servers EXIT
trap 'exit 130' INT TERM

if [[ "${CI:-}" == "true" ]]; then
  "$ES_REPO_ROOT/scripts/format.sh" --check
else
  "$ES_REPO_ROOT/scripts/format.sh" --check || es_warn "formatting differs (CI fails on it): run scripts/format.sh"
fi

"$ES_REPO_ROOT/scripts/setup.sh" "${setup_args[@]}"

if [[ $long -eq 1 ]]; then
  export EAGLESENSE_LONG_TESTS=1
fi
if [[ $sanitize -eq 1 ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi

ctest_args=(--test-dir "$build_dir" --output-on-failure -j2 --timeout 900)
if [[ -n "$label" ]]; then
  ctest_args+=(-L "$label")
fi
es_log "ctest ${ctest_args[*]}"
ctest "${ctest_args[@]}"

# isolated_clone: prints the folder of a git clone of this working tree (committed or not, untracked
# files included, ignored ones not) that stands alone in a folder of its own, with no siblings, as a
# user's clone does. It is kept between runs (under $TMPDIR) so that its build is incremental.
isolated_clone() {
  local home dest index tree commit
  home="${TMPDIR:-/tmp}/eaglesense-isolated-$(printf '%s' "$ES_REPO_ROOT" | sha256sum | cut -c1-12)"
  dest="$home/eaglesense"
  index="$(mktemp)"
  cp "$(git -C "$ES_REPO_ROOT" rev-parse --path-format=absolute --git-path index)" "$index"
  GIT_INDEX_FILE="$index" git -C "$ES_REPO_ROOT" add -A
  tree="$(GIT_INDEX_FILE="$index" git -C "$ES_REPO_ROOT" write-tree)"
  rm -f "$index"
  commit="$(GIT_AUTHOR_NAME=eaglesense GIT_AUTHOR_EMAIL=test@localhost GIT_COMMITTER_NAME=eaglesense \
    GIT_COMMITTER_EMAIL=test@localhost git -C "$ES_REPO_ROOT" commit-tree "$tree" -p HEAD -m "the working tree")"
  if [[ ! -d "$dest/.git" ]]; then
    rm -rf "$home"
    mkdir -p "$home"
    git clone -q --no-checkout "$ES_REPO_ROOT" "$dest" >&2
  fi
  # The commit is in no branch: let the local upload-pack hand it over by its id.
  git -C "$dest" fetch -q --upload-pack="git -c uploadpack.allowAnySHA1InWant=true upload-pack" \
    "$ES_REPO_ROOT" "$commit" >&2
  git -C "$dest" checkout -q -f --detach "$commit" >&2
  git -C "$dest" clean -q -fdx -e /build-asan/ -e /tools/local-aws/node_modules/ >&2
  printf '%s\n' "$dest"
}

# The whole suite (no --label, no --sanitize) ends with the unit and integration tests again in an
# AddressSanitizer + UBSan build (about 8 minutes on 2 cores); --no-sanitizer-pass skips it. That pass
# runs from an isolated clone (above): a test or script that reads anything outside the repository
# (a sibling folder, a file only this checkout has) fails there.
if [[ -z "$label" && $sanitize -eq 0 && $sanitizer_pass -eq 1 ]]; then
  extra=()
  [[ $long -eq 1 ]] && extra+=(--long)
  if git -C "$ES_REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    clone="$(isolated_clone)"
    es_log "sanitizer pass: unit and integration tests in an isolated clone, $clone/build-asan/ (skip with --no-sanitizer-pass)"
    "$clone/scripts/test.sh" --sanitize --label 'unit|integration' "${extra[@]}"
  else
    es_warn "not a git checkout: the sanitizer pass runs here, not from an isolated clone"
    "$0" --sanitize --label 'unit|integration' "${extra[@]}"
  fi
fi
