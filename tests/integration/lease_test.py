"""Hour leases end to end (docs/RELIABILITY.md, "Hour leases"): locks/YYYY-MM-DDTHH.json in the ops bucket.

moto (which honours If-None-Match and If-Match):
- Two `eaglesense run --hour H` started together: one exports the hour, the other reports it `leased`
  naming the first's run id and exits 0; afterwards no lease is left and the objects are the first's.
- An unexpired lease of another run: the hour is reported leased by it, nothing is written, the lease stays.
- A stale (expired) lease of another run is taken over (lease.taken_over), the hour exported, the lease deleted.
- `run --workers`: an hour another run holds is reported leased by the plan; otherwise exported under one
  lease (the plan process finds the parent's lease its own, finish deletes it).
- No lease.conditions_ignored warning.

local (s3rver ignores conditional writes): a run of two hours logs lease.conditions_ignored exactly once,
exports both hours as before, and leaves nothing under locks/ (the probe object is deleted).
"""
import datetime as dt
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from es_harness import (batch_put_raw, binary_path, check, dynamodb_client, load_env, object_key, run_eaglesense,  # noqa: E402
                        s3, unique)

started = time.monotonic()
env = load_env()
backend = env.get("EAGLESENSE_BACKEND", "local")
s3c = s3(env)
ddb = dynamodb_client(env)
prefix = unique("es-lse")
ops = f"{prefix}-ops"
CLIENTS = ["alpha", "beta"]
HOURS = [dt.datetime(2026, 3, 14, 9, tzinfo=dt.timezone.utc), dt.datetime(2026, 3, 14, 10, tzinfo=dt.timezone.utc)]
EVENTS_PER_HOUR = 3000  # enough that a run of one hour lasts well beyond the other run's lease attempt

ddb.create_table(TableName=prefix, KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")
ddb.get_waiter("table_exists").wait(TableName=prefix)
for b in [ops] + [f"{prefix}-{c}" for c in CLIENTS]:
    s3c.create_bucket(Bucket=b)

items = []
for hour in HOURS:
    for i in range(EVENTS_PER_HOUR):
        t = hour + dt.timedelta(seconds=(i * 7) % 3600, microseconds=i)
        items.append({"eventId": {"S": f"{hour:%H}-{i:05d}"}, "clientId": {"S": CLIENTS[i % 2]},
                      "time": {"S": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}, "n": {"N": str(i)}})
batch_put_raw(env, prefix, items)

settings = {"DYNAMODB_TABLE_NAME": prefix, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "1"}


def label(hour):
    return hour.strftime("%Y-%m-%dT%H")


def lock_key(hour):
    return f"locks/{label(hour)}.json"


def ops_keys(under):
    # Listed without a prefix: moto refuses the signature of a ListObjectsV2 whose prefix holds a '/'.
    keys = [o["Key"] for page in s3c.get_paginator("list_objects_v2").paginate(Bucket=ops)
            for o in page.get("Contents", [])]
    return [k for k in keys if k.startswith(under)]


def log_events(stderr, name):
    found = []
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == name:
            found.append(record)
    return found


def write_lease(hour, run_id, expires):
    body = {"run_id": run_id, "holder": "host elsewhere pid 1",
            "acquired_at": (expires - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    s3c.put_object(Bucket=ops, Key=lock_key(hour), Body=json.dumps(body).encode(), ContentType="application/json")


def start_run(hour):
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"], "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"],
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"), "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "3",
        **settings}
    return subprocess.Popen([binary_path(env), "run", "--hour", label(hour), "--no-progress"], env=child_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


if backend != "moto":
    # s3rver accepts every conditional write: leases cannot keep runs apart there, and the run says so once.
    proc = run_eaglesense(env, ["run", "--from", label(HOURS[0]), "--to", label(HOURS[1])], settings)
    summary = json.loads(proc.stdout)
    warnings = log_events(proc.stderr, "lease.conditions_ignored")
    check(len(warnings) == 1, f"expected one lease.conditions_ignored warning, got {len(warnings)}:\n{proc.stderr[-3000:]}")
    check(warnings[0].get("level") == "warn", f"{warnings[0]}")
    check([h["status"] for h in summary["hours"]] == ["exported", "exported"], f"{summary['hours']}")
    check(summary["events_delivered"] == 2 * EVENTS_PER_HOUR, f"{summary}")
    check(summary.get("run_id"), f"no run_id in the summary: {summary}")
    check(ops_keys("locks/") == [], f"left under locks/: {ops_keys('locks/')}")
    print(f"OK local: conditions ignored, warned once, both hours exported ({time.monotonic() - started:.1f} s)")
    sys.exit(0)

hour = HOURS[1]

# 1. Two runs of one hour at once: one exports, the other reports the hour leased by the first.
first, second = start_run(hour), start_run(hour)
outputs = [p.communicate(timeout=600) for p in (first, second)]
codes = [first.returncode, second.returncode]
check(codes == [0, 0], f"exit codes {codes}\n" + "\n".join(err[-3000:] for _, err in outputs))
summaries = [json.loads(out) for out, _ in outputs]
statuses = sorted(s["hours"][0]["status"] for s in summaries)
check(statuses == ["exported", "leased"], f"statuses {statuses}\n" + "\n".join(err[-3000:] for _, err in outputs))
winner = next(s for s in summaries if s["hours"][0]["status"] == "exported")
loser_index = next(i for i, s in enumerate(summaries) if s["hours"][0]["status"] == "leased")
loser = summaries[loser_index]
check(winner["run_id"] and winner["run_id"] != loser["run_id"], f"run ids {winner['run_id']} {loser['run_id']}")
check(loser["hours"][0]["leased_by"] == winner["run_id"],
      f"leased_by {loser['hours'][0]['leased_by']}, the exporting run is {winner['run_id']}")
check(loser["hours_leased"] == 1 and loser["hours_failed"] == 0 and loser["events_read"] == 0, f"{loser}")
check(loser["hours"][0]["leased_until"] > f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%S}", f"{loser['hours'][0]}")
leased_logs = log_events(outputs[loser_index][1], "export.hour_leased")
check(len(leased_logs) == 1 and leased_logs[0].get("holder_run_id") == winner["run_id"], f"{leased_logs}")
check(winner["events_delivered"] == EVENTS_PER_HOUR, f"{winner}")
for _, err in outputs:
    check(not log_events(err, "lease.conditions_ignored"), "moto honours conditional writes, yet the run warned")
check(ops_keys("locks/") == [], f"left under locks/: {ops_keys('locks/')}")
check(ops_keys("manifests/") == [hour.strftime("manifests/%Y/%m/%d/%H.json")], f"{ops_keys('manifests/')}")
for client in CLIENTS:
    s3c.head_object(Bucket=f"{prefix}-{client}", Key=object_key(hour))
print(f"OK concurrent runs: {winner['run_id']} exported, {loser['run_id']} reported leased")

# 2. An unexpired lease of another run: the hour is left to it.
other = HOURS[0]
now = dt.datetime.now(dt.timezone.utc)
write_lease(other, "someone-else", now + dt.timedelta(minutes=30))
proc = run_eaglesense(env, ["run", "--hour", label(other)], settings)
summary = json.loads(proc.stdout)
h = summary["hours"][0]
check(h["status"] == "leased" and h["leased_by"] == "someone-else", f"{h}")
check(ops_keys(other.strftime("manifests/%Y/%m/%d/%H")) == [], "a leased hour got a manifest")
check(lock_key(other) in ops_keys("locks/"), "the other run's lease was removed")

# 3. A stale lease (expired) is taken over: the hour is exported and the lease deleted.
write_lease(other, "crashed-run", now - dt.timedelta(minutes=5))
proc = run_eaglesense(env, ["run", "--hour", label(other)], settings)
summary = json.loads(proc.stdout)
check(summary["hours"][0]["status"] == "exported", f"{summary['hours'][0]}")
taken = log_events(proc.stderr, "lease.taken_over")
check(len(taken) == 1 and taken[0].get("previous_run_id") == "crashed-run", f"{taken}\n{proc.stderr[-3000:]}")
check(ops_keys("locks/") == [], f"left under locks/: {ops_keys('locks/')}")
check(ops_keys(other.strftime("manifests/%Y/%m/%d/%H")) != [], "the hour has no manifest")

# 4. run --workers: the plan process finds the parent's lease its own, finish deletes it; an hour another
#    run holds is reported leased by the plan.
write_lease(other, "someone-else", now + dt.timedelta(minutes=30))
summary = json.loads(run_eaglesense(env, ["run", "--hour", label(other), "--workers", "2"], settings).stdout)
check(summary["hours"][0]["status"] == "leased" and summary["hours"][0]["leased_by"] == "someone-else",
      f"--workers: {summary['hours'][0]}")
check(not ops_keys("staging/"), f"--workers planned a leased hour: {ops_keys('staging/')}")
s3c.delete_object(Bucket=ops, Key=lock_key(other))
summary = json.loads(run_eaglesense(env, ["run", "--hour", label(other), "--workers", "2"], settings).stdout)
check(summary["hours"][0]["status"] == "exported" and summary["events_delivered"] == EVENTS_PER_HOUR,
      f"--workers: {summary}")
check(ops_keys("locks/") == [], f"--workers left under locks/: {ops_keys('locks/')}")

print(f"OK moto: concurrent runs kept apart, a held lease respected, a stale one taken over, run --workers "
      f"({time.monotonic() - started:.1f} s)")
