#!/usr/bin/env bash
# The demo: sets up what is missing, starts local DynamoDB (dynalite) and S3 (s3rver), seeds 50,000
# events for 20 clients in the last complete hour (plus events that must be rejected and one client
# without a bucket), exports that hour with build/eaglesense, shows what was written, writes the
# hour's status report (build/demo-status-report.html, `eaglesense status --format html`) and stops
# the servers.
#
#   scripts/run_local.sh [--events N] [--clients N] [--keep-servers]
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

events=50000
clients=20
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --keep-servers) keep=1 ;;
    -h | --help) es_usage; exit 0 ;;
    *) es_die "unknown option '$1' (allowed: --events N, --clients N, --keep-servers)" ;;
  esac
  shift
done

"$ES_REPO_ROOT/scripts/setup.sh" >&2

state="$ES_REPO_ROOT/.local-aws/demo"
es_use_local_aws "$state" "$keep"
stamp="$(date +%s)"
export DYNAMODB_TABLE_NAME="demo-events-$stamp"
export S3_BUCKET_PREFIX="demo-$stamp"
export LOG_LEVEL=warn

bin="$ES_REPO_ROOT/build/eaglesense"
hour=$(date -u -d '1 hour ago' +%Y-%m-%dT%H)
echo
echo "== Seeding $events events for $clients clients in $hour (table $DYNAMODB_TABLE_NAME)"
echo "   plus 40 events that must be rejected; the last client has no bucket"
"$bin" seed --events "$events" --clients "$clients" --hour "$hour" --bad 40 \
  --create-table --create-buckets --missing-bucket-clients 1

echo
echo "== Exporting $hour"
set +e
start=$(date +%s.%N)
"$bin" run --hour "$hour" --no-progress >"$state/summary.json"
code=$?
end=$(date +%s.%N)
set -e

/usr/bin/python3 - "$state/summary.json" "$code" "$start" "$end" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
code, start, end = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"{'client':<16}{'status':<15}{'events':>8}{'bytes':>12}  key")
for h in s["hours"]:
    for o in h.get("objects_detail", []):
        where = f"s3://{o['bucket']}/{o['key']}"
        print(f"{o['client']:<16}{o['status']:<15}{o['events']:>8}{o['bytes']:>12}  {where}")
print()
print(f"read {s['events_read']} = delivered {s['events_delivered']} + rejected {s['events_rejected']}"
      f" + undeliverable {s['events_undeliverable']}")
print(f"{s['objects']} objects, {s['bytes']} bytes, {end - start:.2f} s wall, "
      f"{s['events_per_second']} events/s, peak RSS {s.get('peak_rss_bytes', 0) / 2**20:.0f} MiB, exit code {code}")
if code == 3:
    print("exit code 3: some events were undeliverable (the client without a bucket); they are kept in the ops "
          "bucket and an alarm would fire")
print()
print("summary (stdout of eaglesense run):")
print(json.dumps({k: v for k, v in s.items() if k != "hours"}, indent=2))
PY

echo
echo "== What the ops bucket holds (listed with Debian's aws CLI)"
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 ls "s3://$S3_BUCKET_PREFIX-ops" --recursive
echo
echo "== First lines of one client's object"
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp "s3://$S3_BUCKET_PREFIX-client-000/events-${hour//T/-}.json" - \
  2>/dev/null | head -c 600 || true
echo
echo
echo "== First rejected event"
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp "s3://$S3_BUCKET_PREFIX-ops/rejected/events-${hour//T/-}.json" - \
  2>/dev/null | sed -n 2p | head -c 600 || true
echo
echo
echo "== The operator's view: eaglesense status (read from the manifests in the ops bucket)"
"$bin" status --from "$hour" --to "$hour" || true
report="$ES_REPO_ROOT/build/demo-status-report.html"
set +e
"$bin" status --from "$hour" --to "$hour" --format html --output "$report"
status_code=$?
set -e
echo
echo "The demo's report (one self-contained HTML page; status exit code $status_code): $report"
echo "Open it in a browser: file://$report"
if [[ $keep -eq 1 ]]; then
  echo
  echo "Servers left running (scripts/local-aws.sh stop --backend local --state-dir $state to stop them)."
fi
