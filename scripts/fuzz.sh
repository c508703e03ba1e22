#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) and runs each for a while.
#
#   scripts/fuzz.sh [--seconds N] [--quick-seconds N] [--target NAME]... [--build-dir DIR] [--jobs J]
#                   [--parallel P]
#
#   --seconds N        how long each of the first four targets runs (transcode, time, aws_errors,
#                      lambda_event; default 30, or EAGLESENSE_FUZZ_SECONDS)
#   --quick-seconds N  how long each later target runs (s3_xml, credentials, ini, manifest, scale_out,
#                      spill_run; default 30, or EAGLESENSE_FUZZ_QUICK_SECONDS): lower it for a quicker run
#   --target NAME      run only this target (a tests/fuzz/fuzz_NAME.cpp); repeatable
#   --build-dir DIR  the clang build (default build-fuzz/); configured here when it does not exist
#   --jobs J         parallel compile jobs (default 2)
#   --parallel P     targets fuzzed at the same time, one core each (default 1)
#
# Each target starts from its seeds in tests/fuzz/corpus/<name>/ and keeps what it finds in
# <build-dir>/corpus/<name>/ (so later runs go deeper); a crash, leak, sanitizer report, timeout or
# broken invariant leaves its input in <build-dir>/artifacts/<name>/. Prints executions and exec/s per
# target, and exits 1 if any target found anything (printing the report and how to reproduce it).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

seconds="${EAGLESENSE_FUZZ_SECONDS:-30}"
quick_seconds="${EAGLESENSE_FUZZ_QUICK_SECONDS:-30}"
# The targets that run --seconds; every other one runs --quick-seconds.
long_targets=" transcode time aws_errors lambda_event "
build_dir="$ES_REPO_ROOT/build-fuzz"
jobs=2
parallel=1
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || es_die "--seconds needs a positive number"
      seconds="$2"
      shift
      ;;
    --quick-seconds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || es_die "--quick-seconds needs a positive number"
      quick_seconds="$2"
      shift
      ;;
    --target)
      [[ $# -ge 2 ]] || es_die "--target needs a name (a tests/fuzz/fuzz_NAME.cpp)"
      targets+=("$2")
      shift
      ;;
    --build-dir)
      [[ $# -ge 2 ]] || es_die "--build-dir needs a directory"
      build_dir="$2"
      shift
      ;;
    --jobs)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || es_die "--jobs needs a positive number"
      jobs="$2"
      shift
      ;;
    --parallel)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || es_die "--parallel needs a positive number"
      parallel="$2"
      shift
      ;;
    -h | --help)
      es_usage
      exit 0
      ;;
    *) es_die "unknown option '$1' (allowed: --seconds N, --quick-seconds N, --target NAME, --build-dir DIR, --jobs J, --parallel P)" ;;
  esac
  shift
done

command -v clang++ >/dev/null 2>&1 || es_die "clang++ not found: run scripts/setup.sh (Debian package clang)"
if ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null; then
  es_die "the libFuzzer runtime is missing: run scripts/setup.sh (Debian package libclang-rt-14-dev)"
fi

if [[ ${#targets[@]} -eq 0 ]]; then
  for src in "$ES_REPO_ROOT"/tests/fuzz/fuzz_*.cpp; do
    name="$(basename "$src" .cpp)"
    targets+=("${name#fuzz_}")
  done
fi

started=$SECONDS
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  es_log "configuring $build_dir (clang, EAGLESENSE_FUZZ=ON)"
  CC=clang CXX=clang++ cmake -S "$ES_REPO_ROOT" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEAGLESENSE_FUZZ=ON -DEAGLESENSE_TESTS=OFF -DEAGLESENSE_BENCH=OFF >/dev/null
fi
build_targets=()
for t in "${targets[@]}"; do
  [[ -f "$ES_REPO_ROOT/tests/fuzz/fuzz_$t.cpp" ]] || es_die "no fuzz target '$t' (tests/fuzz/fuzz_$t.cpp)"
  build_targets+=("fuzz_$t")
done
es_log "building ${build_targets[*]} in $build_dir"
cmake --build "$build_dir" --parallel "$jobs" --target "${build_targets[@]}"
es_log "build took $((SECONDS - started)) s"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# seconds_of NAME: how long it runs.
seconds_of() {
  if [[ "$long_targets" == *" $1 "* ]]; then echo "$seconds"; else echo "$quick_seconds"; fi
}

# fuzz_one NAME: runs one target; its exit code goes to <build-dir>/fuzz-NAME.rc.
fuzz_one() {
  local t="$1" corpus="$build_dir/corpus/$1" artifacts="$build_dir/artifacts/$1" rc=0
  mkdir -p "$corpus" "$artifacts"
  "$build_dir/tests/fuzz/fuzz_$t" -max_total_time="$(seconds_of "$t")" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix="$artifacts/" "$corpus" "$ES_REPO_ROOT/tests/fuzz/corpus/$t" \
    >"$build_dir/fuzz-$t.log" 2>&1 || rc=$?
  echo "$rc" >"$build_dir/fuzz-$t.rc"
}

stamp="$build_dir/fuzz-run.stamp"
touch "$stamp"
running=0
for t in "${targets[@]}"; do
  rm -f "$build_dir/fuzz-$t.rc"
  es_log "fuzz_$t for $(seconds_of "$t") s"
  fuzz_one "$t" &
  running=$((running + 1))
  if [[ $running -ge $parallel ]]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  log="$build_dir/fuzz-$t.log"
  artifacts="$build_dir/artifacts/$t"
  rc="$(cat "$build_dir/fuzz-$t.rc" 2>/dev/null || echo 1)"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  secs="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')"
  if [[ "$rc" != 0 ]]; then
    failed+=("$t")
    summary+=("$(printf '%-14s FOUND SOMETHING (exit %s)  see %s' "$t" "$rc" "$log")")
    es_warn "fuzz_$t exited $rc; its report:"
    grep -E 'ERROR|SUMMARY|invariant broken|runtime error|Test unit written' "$log" | head -40 >&2 || true
    tail -n 30 "$log" >&2
    while IFS= read -r a; do
      es_warn "reproduce: $build_dir/tests/fuzz/fuzz_$t $a"
    done < <(find "$artifacts" -type f -newer "$stamp")
  else
    summary+=("$(printf '%-14s ok  %10s runs  %7s exec/s  cov %s' "$t" "${runs:-?}" "${secs:-?}" "${cov:-?}")")
  fi
done

es_log "results (${seconds} s each, ${quick_seconds} s each for the later targets, $((SECONDS - started)) s in all):"
for line in "${summary[@]}"; do printf '  %s\n' "$line"; done
if [[ ${#failed[@]} -gt 0 ]]; then
  es_die "fuzzing found problems in: ${failed[*]}"
fi
