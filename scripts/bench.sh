#!/usr/bin/env bash
# Prints EagleSense's performance figures on this machine (docs/PERFORMANCE.md explains them).
#
#   scripts/bench.sh [--events N[,N...]] [--skip-core] [--skip-query] [--backfill] [--huge] [--workers W[,W...]]
#                    [--repeat R] [--build-dir DIR] [--keep-servers] [--compare BIN]
#
# 1. core: the in-memory hot path (bench/core_bench: parse + transcode + group + encode), events/s;
#    and the status report of 168 hours x 1,000 clients (bench/status_bench): time and size per format.
# 2. export: for each N (default 200000,1000000) seeds N events of the reference shape for 20
#    clients in one hour into local DynamoDB (dynalite) and S3 (s3rver), then measures, in one run,
#    (a) a read-only pass `eaglesense run --dry-run` and (b) the full export, each with wall time,
#    events/s, the exporter's CPU seconds (user+sys) and peak RSS, and the ratio of (b) to (a);
#    for the first N also (c) the full export with EAGLESENSE_MEMORY_MB=64.
# 3. query: seeds 24 hours and prints the read capacity consumed exporting one hour in scan mode
#    and in query mode.
# --backfill: seeds the 24 hours before the current one with 10,000 events each, then prints wall time,
#    items scanned and read capacity of (a) exporting the last hour alone, (b) a 24-hour backfill
#    (--from/--to: one scan), (c) a 6-hour --catch-up that rechecks hours already exported (reads them
#    once, writes nothing), with (b) and (c) against (a) (docs/ACROSS_TIME.md).
# 4. --huge (long, ~15 min): 2,000,000 events with client-000 holding half of them, exported with the
#    default memory budget: peak RSS against EAGLESENSE_MEMORY_MB (spilling, multipart streaming).
# 5. --workers W,... (e.g. 1,2,4): 1,000,000 events exported with `run --workers W` (plan, W work
#    processes, one merge process per client, finish) for each W: wall time and time per stage, with
#    the single-process export of the same table for comparison. Alone: --workers 1,2,4 --events 0.
# --repeat R runs every measured export R times and prints the median of each column (the machine's
# other work makes single runs noisy). --build-dir DIR (or EAGLESENSE_BUILD_DIR) builds and measures
# DIR instead of build/. --compare BIN also measures another eaglesense binary (a build of an earlier
# commit) on the same tables, each run alternating with this build's, and prints a row for each: on
# this project's VMs single runs swing by 10-25 % whatever the code, so a change is judged this way.
# Results go to stdout and <build dir>/bench-results.md. Nothing here asserts: these are figures.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

events_list="200000,1000000"
skip_core=0
skip_query=0
backfill=0
huge=0
workers_list=""
repeat=1
build_dir="${EAGLESENSE_BUILD_DIR:-$ES_REPO_ROOT/build}"
keep=0
compare=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events_list="$2"; shift ;;
    --skip-core) skip_core=1 ;;
    --skip-query) skip_query=1 ;;
    --backfill) backfill=1 ;;
    --huge) huge=1 ;;
    --workers) workers_list="$2"; shift ;;
    --repeat) repeat="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --keep-servers) keep=1 ;;
    --compare) compare="$2"; shift ;;
    -h | --help) es_usage; exit 0 ;;
    *) es_die "unknown option '$1' (allowed: --events N[,N...], --skip-core, --skip-query, --backfill, --huge, --workers W[,W...], --repeat R, --build-dir DIR, --keep-servers, --compare BIN)" ;;
  esac
  shift
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || es_die "--repeat needs a whole number >= 1, got '$repeat'"
if [[ -n "$compare" ]]; then
  [[ -f "$compare" && -x "$compare" ]] || es_die "--compare needs an eaglesense binary to run, got '$compare'"
  compare="$(cd "$(dirname "$compare")" && pwd)/$(basename "$compare")"
fi
build_dir="$(cd "$(dirname "$build_dir")" && pwd)/$(basename "$build_dir")"

"$ES_REPO_ROOT/scripts/setup.sh" --build-dir "$build_dir" >&2
bin="$build_dir/eaglesense"
results="$build_dir/bench-results.md"
: >"$results"
out() { printf '%s\n' "$*" | tee -a "$results"; }

out "# EagleSense benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git -C "$ES_REPO_ROOT" rev-parse --short HEAD)"
out ""

if [[ $skip_core -eq 0 ]]; then
  cmake --build "$build_dir" --target core_bench >&2
  out "## Core path in memory (one core)"
  out '```'
  "$build_dir/bench/core_bench" --benchmark_min_time=1 2>/dev/null | grep -E '^(BM_|Benchmark|-)' | tee -a "$results"
  out '```'
  out ""
  # The status report at its stated size (no servers: manifests made in memory); the pages are kept in
  # the build directory to look at.
  cmake --build "$build_dir" --target status_bench >&2
  out "## Status report, 168 hours x 1,000 clients (bench/status_bench; pages in $build_dir/status-bench.*)"
  out '```'
  "$build_dir/bench/status_bench" 168 1000 "$build_dir" | tee -a "$results"
  out '```'
  out ""
fi

state="${EAGLESENSE_BENCH_STATE:-$ES_REPO_ROOT/.local-aws/bench}"  # servers and scratch files
es_use_local_aws "$state" "$keep"
export LOG_LEVEL=warn
hour="2026-11-29T10"
stamp=$(date +%s)

# measure LABEL ARGS...: runs eaglesense under /usr/bin/time (--repeat times; with --compare, each run
# followed by one of the other binary), prints one table row per binary (medians of each column over
# its runs), keeps the median wall time of this build.
measure() {
  local label="$1"
  shift
  local summary="$state/summary.json" timing="$state/time.txt" i b
  local bins=("$bin")
  [[ -z "$compare" ]] || bins+=("$compare")
  for b in "${!bins[@]}"; do : >"$timing.all.$b"; done
  for ((i = 0; i < repeat; i++)); do
    for b in "${!bins[@]}"; do
      /usr/bin/time -f '%e %U %S %M' -o "$timing" "${bins[$b]}" run --hour "$hour" --no-progress "$@" >"$summary" || true
      cat "$timing" >>"$timing.all.$b"
    done
  done
  for b in "${!bins[@]}"; do
    local row="$label"
    if [[ -n "$compare" ]]; then
      if [[ $b -eq 0 ]]; then row+=" [this build]"; else row+=" [${compare}]"; fi
    fi
    /usr/bin/python3 - "$summary" "$row" "$timing.all.$b" <<'PY' | tee -a "$results"
import json, statistics, sys
s = json.load(open(sys.argv[1]))
label = sys.argv[2]
def numbers(line):  # "wall user sys rss"; time(1) adds a line for a non-zero exit status
    try:
        values = [float(x) for x in line.split()]
    except ValueError:
        return None
    return values if len(values) == 4 else None
runs = [r for r in map(numbers, open(sys.argv[3])) if r]
wall, user, sys_, rss = (statistics.median(column) for column in zip(*runs))
cpu = statistics.median(r[1] + r[2] for r in runs)
n = s["events_read"]
note = f" (median of {len(runs)})" if len(runs) > 1 else ""
print(f"| {label}{note} | {n:,} | {wall:.2f} | {n / wall:,.0f} | {cpu:.2f} | {cpu / max(n, 1) * 1e6:.2f} | {rss / 1024:.0f} |"
      f" {s.get('consumed_read_capacity', 0):,.0f} |")
open(sys.argv[3] + ".wall", "w").write(f"{wall}\n")
PY
  done
  last_wall=$(cat "$timing.all.0.wall")
}

IFS=',' read -r -a sizes <<<"$events_list"
first=1
for n in "${sizes[@]}"; do
  [[ "$n" -gt 0 ]] || continue
  export DYNAMODB_TABLE_NAME="bench-$n-$stamp" S3_BUCKET_PREFIX="bench-$n-$stamp"
  out "## Export of $n events, 20 clients, one hour (dynalite + s3rver on 127.0.0.1)"
  seed_start=$(date +%s.%N)
  "$bin" seed --events "$n" --clients 20 --hour "$hour" --create-table --create-buckets --writers 8 >/dev/null
  out "seeded in $(python3 -c "import time;print(f'{time.time()-$seed_start:.0f}')") s"
  out ""
  out "| run | events | wall s | events/s | CPU s | CPU µs/event | peak RSS MB | read capacity |"
  out "|---|---|---|---|---|---|---|---|"
  measure "(a) read-only pass (--dry-run)" --dry-run
  dry="$last_wall"
  measure "(b) full export"
  full="$last_wall"
  if [[ $first -eq 1 ]]; then
    EAGLESENSE_MEMORY_MB=64 measure "(c) full export, EAGLESENSE_MEMORY_MB=64"
  fi
  out ""
  out "full export / read-only pass: $(python3 -c "print(f'{$full/$dry:.2f}')")x"
  out ""
  first=0
done

if [[ $skip_query -eq 0 ]]; then
  export DYNAMODB_TABLE_NAME="bench-24h-$stamp" S3_BUCKET_PREFIX="bench-24h-$stamp"
  out "## Read capacity of one hour, scan vs query mode (24 hours x 20,000 events in the table)"
  for h in $(seq 0 23); do
    hh=$(printf '2026-11-29T%02d' "$h")
    extra=()
    [[ $h -eq 0 ]] && extra=(--create-table --create-buckets)
    "$bin" seed --events 20000 --clients 20 --hour "$hh" --seed "$((h + 100))" --writers 8 "${extra[@]}" >/dev/null
  done
  out ""
  out "| run | events | wall s | events/s | CPU s | CPU µs/event | peak RSS MB | read capacity |"
  out "|---|---|---|---|---|---|---|---|"
  measure "scan mode" --dry-run
  scan_rcu=$(/usr/bin/python3 -c "import json;print(json.load(open('$state/summary.json'))['consumed_read_capacity'])")
  measure "query mode" --dry-run --read-mode query
  query_rcu=$(/usr/bin/python3 -c "import json;print(json.load(open('$state/summary.json'))['consumed_read_capacity'])")
  out ""
  out "query / scan read capacity: $(python3 -c "print(f'{$query_rcu/max($scan_rcu,1):.4f} (1/{$scan_rcu/max($query_rcu,1):.0f})')")"
fi
if [[ $backfill -eq 1 ]]; then
  export DYNAMODB_TABLE_NAME="bench-backfill-$stamp" S3_BUCKET_PREFIX="bench-backfill-$stamp"
  out "## Backfill and catch-up against one hour (24 hours x 10,000 events, 20 clients)"
  # The 24 complete hours before the current one, so that --catch-up (which follows the clock) sees them.
  mapfile -t day < <(/usr/bin/python3 -c "
import datetime as dt
now = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
for n in range(24, 0, -1): print((now - dt.timedelta(hours=n)).strftime('%Y-%m-%dT%H'))")
  for i in "${!day[@]}"; do
    extra=()
    [[ $i -eq 0 ]] && extra=(--create-table --create-buckets)
    "$bin" seed --events 10000 --clients 20 --hour "${day[$i]}" --seed "$((i + 300))" --writers 8 "${extra[@]}" >/dev/null
  done
  out ""
  out "| run | hours written | events | wall s | items scanned | read capacity | wall / one hour | capacity / one hour |"
  out "|---|---|---|---|---|---|---|---|"
  # hours_row LABEL ARGS...: one timed run of `eaglesense run ARGS`, its row against the first one's.
  hours_row() {
    local label="$1"
    shift
    local started
    started=$(date +%s.%N)
    "$bin" run --no-progress "$@" >"$state/summary.json" || true
    /usr/bin/python3 - "$state/summary.json" "$label" "$started" "$state/one-hour.txt" <<'PY' | tee -a "$results"
import json, os, sys, time
s = json.load(open(sys.argv[1]))
wall = time.time() - float(sys.argv[3])
written = sum(1 for h in s["hours"] if h["status"] in ("exported", "undeliverable"))
rcu = s.get("consumed_read_capacity", 0)
base = sys.argv[4]
if not os.path.exists(base):
    open(base, "w").write(f"{wall} {rcu}\n")
one_wall, one_rcu = (float(x) for x in open(base).read().split())
print(f"| {sys.argv[2]} | {written} | {s['events_read']:,} | {wall:.2f} | {s['items_scanned']:,} | {rcu:,.0f} |"
      f" {wall / one_wall:.2f}x | {rcu / max(one_rcu, 1):.2f}x |")
PY
  }
  rm -f "$state/one-hour.txt"
  hours_row "(a) one hour: run --hour ${day[23]}" --hour "${day[23]}"
  hours_row "(b) 24-hour backfill: run --from ${day[0]} --to ${day[23]}" --from "${day[0]}" --to "${day[23]}"
  hours_row "(c) catch-up recheck, nothing changed: run --catch-up 6" --catch-up 6
  out ""
fi
if [[ $huge -eq 1 ]]; then
  export DYNAMODB_TABLE_NAME="bench-huge-$stamp" S3_BUCKET_PREFIX="bench-huge-$stamp"
  out "## 2,000,000 events, client-000 holding half, default budget (EAGLESENSE_MEMORY_MB=${EAGLESENSE_MEMORY_MB:-192})"
  "$bin" seed --events 2000000 --clients 20 --skew 0.5 --hour "$hour" --create-table --create-buckets --writers 8 >/dev/null
  out ""
  out "| run | events | wall s | events/s | CPU s | CPU µs/event | peak RSS MB | read capacity |"
  out "|---|---|---|---|---|---|---|---|"
  measure "full export, 2M, one client half"
  /usr/bin/python3 -c "import json;s=json.load(open('$state/summary.json'));print('objects', s['objects'], 'bytes', s['bytes'], 'undeliverable', s['events_undeliverable'])" | tee -a "$results"
fi
if [[ -n "$workers_list" ]]; then
  n=1000000
  export DYNAMODB_TABLE_NAME="bench-workers-$stamp" S3_BUCKET_PREFIX="bench-workers-$stamp"
  out "## Scale-out: $n events, 20 clients, \`run --workers W\` (separate processes, same machine)"
  "$bin" seed --events "$n" --clients 20 --hour "$hour" --create-table --create-buckets --writers 8 >/dev/null
  out ""
  out "| run | events | wall s | events/s | CPU s | CPU µs/event | peak RSS MB | read capacity |"
  out "|---|---|---|---|---|---|---|---|"
  measure "single process (run)"
  IFS=',' read -r -a workers_sizes <<<"$workers_list"
  stage_rows=()
  for w in "${workers_sizes[@]}"; do
    LOG_LEVEL=info measure "run --workers $w" --workers "$w" 2>"$state/workers-$w.log"
    stage_rows+=("$(/usr/bin/python3 - "$state/workers-$w.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if '"scale_out.hour_done"' in line:
        s = json.loads(line)
        print(f"| {s['workers']} | {s['clients']} | {s['plan_ms'] / 1000:.2f} | {s['work_ms'] / 1000:.2f} |"
              f" {s['merge_ms'] / 1000:.2f} | {s['finish_ms'] / 1000:.2f} | {s['duration_ms'] / 1000:.2f} |")
PY
)")
  done
  out ""
  out "(CPU and peak RSS of the --workers rows: all stage processes together; peak RSS is the largest one's.)"
  out ""
  out "| W | clients | plan s | work s | merge s | finish s | total s |"
  out "|---|---|---|---|---|---|---|"
  for row in "${stage_rows[@]}"; do out "$row"; done
  out ""
fi
echo >&2
echo "results also in $results" >&2
