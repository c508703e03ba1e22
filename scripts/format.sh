#!/usr/bin/env bash
# Formats the C++ sources with the repository's .clang-format.
#
#   scripts/format.sh           rewrite every *.h / *.cpp under src/ tests/ bench/ in place
#   scripts/format.sh --check   change nothing; list the files that are not formatted, exit 1 if any
#
# CLANG_FORMAT picks another binary (default: clang-format, Debian's 14 here).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h | --help)
    es_usage
    exit 0
    ;;
  *) es_die "unknown option '$1' (allowed: --check)" ;;
esac

clang_format="${CLANG_FORMAT:-clang-format}"
command -v "$clang_format" >/dev/null 2>&1 || es_die "$clang_format not found: run scripts/setup.sh (Debian package clang-format)"

cd "$ES_REPO_ROOT"
mapfile -d '' files < <(find src tests bench -type f \( -name '*.h' -o -name '*.cpp' \) -print0 2>/dev/null | sort -z)
if [[ ${#files[@]} -eq 0 ]]; then
  es_log "no C++ files found"
  exit 0
fi

if [[ $check -eq 0 ]]; then
  "$clang_format" -i --style=file "${files[@]}"
  es_log "formatted ${#files[@]} files"
  exit 0
fi

unformatted=()
for f in "${files[@]}"; do
  if ! "$clang_format" --style=file "$f" | cmp -s - "$f"; then
    unformatted+=("$f")
  fi
done
if [[ ${#unformatted[@]} -gt 0 ]]; then
  es_warn "${#unformatted[@]} of ${#files[@]} files are not formatted (run scripts/format.sh):"
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
es_log "all ${#files[@]} files are formatted"
