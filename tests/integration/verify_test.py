"""End to end: `eaglesense verify` on an hour exported by `eaglesense run`, damaged by boto3.

The hour is seeded by `eaglesense seed` (good events for four clients, the last without a bucket so
that it is undeliverable, and bad events that are rejected), exported by `eaglesense run`, and
verified with --source (exit 0). Then boto3, as an independent hand, corrupts one client object (one
byte changed, same size) and edits one manifest entry's event count: verify exits 4 and names both.
Also: an hour never exported (exit 4, "hour not exported"), --json, and a bad setting (exit 2).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from es_harness import check, load_env, run_eaglesense, s3, unique  # noqa: E402

env = load_env()
s3c = s3(env)
prefix = unique("es-ver")
ops = f"{prefix}-ops"
HOUR = "2026-11-29T10"
KEY = "events-2026-11-29-10.json"
MANIFEST = "manifests/2026/11/29/10.json"
settings = {"DYNAMODB_TABLE_NAME": prefix, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "4"}

run_eaglesense(env, ["seed", "--events", "400", "--clients", "4", "--hour", HOUR, "--create-table",
                     "--create-buckets", "--missing-bucket-clients", "1", "--bad", "5"], settings)
summary = json.loads(run_eaglesense(env, ["run", "--hour", HOUR], settings, check_codes=(3,)).stdout)
check(summary["events_undeliverable"] > 0 and summary["events_rejected"] == 5, f"run summary: {summary}")

# A clean hour verifies, with the recount in DynamoDB.
clean = run_eaglesense(env, ["verify", "--hour", HOUR, "--source"], settings)
check("result: ok" in clean.stdout, f"clean verify report:\n{clean.stdout}")
check("MISMATCH" not in clean.stdout, f"clean verify report:\n{clean.stdout}")
report = json.loads(run_eaglesense(env, ["verify", "--hour", HOUR, "--json"], settings).stdout)
check(report["ok"] and report["findings"] == [], f"json report: {report}")
check(report["events_counted"] == summary["events_read"], f"counted {report['events_counted']} != read {summary}")
statuses = sorted(o["status"] for o in report["objects"])
check(statuses == ["delivered"] * 3 + ["rejected", "undeliverable"], f"objects verified: {statuses}")

# Corrupt client-000's object: one byte of an event id changed, same size (only the checksum tells).
victim_bucket = f"{prefix}-client-000"
body = bytearray(s3c.get_object(Bucket=victim_bucket, Key=KEY)["Body"].read())
at = body.index(b'"eventId":"') + len(b'"eventId":"')
body[at] = ord("x") if body[at] != ord("x") else ord("y")
s3c.put_object(Bucket=victim_bucket, Key=KEY, Body=bytes(body), ContentType="application/json")

# Edit client-001's count in the manifest.
manifest = json.loads(s3c.get_object(Bucket=ops, Key=MANIFEST)["Body"].read())
entry = next(o for o in manifest["objects"] if o["client"] == "client-001")
entry["events"] += 7
s3c.put_object(Bucket=ops, Key=MANIFEST, Body=json.dumps(manifest, indent=1).encode(),
               ContentType="application/json")

damaged = run_eaglesense(env, ["verify", "--hour", HOUR, "--source"], settings, check_codes=(4,))
lines = [line for line in damaged.stdout.splitlines() if line.startswith("MISMATCH ")]
check(any("client-000" in line and "sha256" in line and f"s3://{victim_bucket}/{KEY}" in line for line in lines),
      f"the corrupted object is not named:\n{damaged.stdout}")
check(any("client-001" in line and " events: manifest" in line for line in lines),
      f"the edited manifest count is not named:\n{damaged.stdout}")
check(any("client-001" in line and "source:" in line for line in lines),
      f"the recount does not name client-001:\n{damaged.stdout}")
check(not any("client-002" in line for line in lines), f"client-002 is intact:\n{damaged.stdout}")
as_json = json.loads(run_eaglesense(env, ["verify", "--hour", HOUR, "--json"], settings, check_codes=(4,)).stdout)
found = {(f["client"], f["check"]) for f in as_json["findings"]}
check(("client-000", "sha256") in found and ("client-001", "events") in found, f"json findings: {found}")

# An hour never exported.
missing = run_eaglesense(env, ["verify", "--hour", "2026-11-29T12"], settings, check_codes=(4,))
check(f"hour not exported (no manifest at s3://{ops}/manifests/2026/11/29/12.json)" in missing.stdout,
      f"missing manifest report:\n{missing.stdout}")

# A bad setting stops before any I/O (exit 2); so does a bad hour.
bad = run_eaglesense(env, ["verify", "--hour", HOUR], {**settings, "OUTPUT_FORMAT": "xml"}, check_codes=(2,))
check("OUTPUT_FORMAT" in bad.stderr, f"config error must name the setting: {bad.stderr}")
run_eaglesense(env, ["verify", "--hour", "2026-11-29T10:30"], settings, check_codes=(2,))
print(f"ok: verify clean with --source, then caught {len(lines)} mismatches:\n" + "\n".join(lines))
