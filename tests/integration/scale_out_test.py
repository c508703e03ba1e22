"""Scale-out against the local servers: `eaglesense run --workers W` (plan, W work processes, one merge
process per client, finish) writes exactly the objects and manifest of a single-process run for W in
{1, 3, 8}; a killed work process leaves the hour unmergeable until that unit alone is re-run, which
heals it. Objects are read back with boto3."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from es_harness import binary_path, check, load_env, run_eaglesense, s3, unique  # noqa: E402

HOUR = "2026-11-28T07"
KEY = "events-2026-11-28-07.json"
MANIFEST = "manifests/2026/11/28/07.json"

env = load_env()
s3c = s3(env)
prefix = unique("so")
settings = {"DYNAMODB_TABLE_NAME": unique("so-events"), "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "2"}
ops = f"{prefix}-ops"
clients = [f"client-{i:03}" for i in range(6)]

run_eaglesense(env, ["seed", "--events", "6000", "--clients", "6", "--hour", HOUR, "--bad", "12",
                     "--create-table", "--create-buckets", "--missing-bucket-clients", "1"], settings)


def list_keys(bucket, prefix_=""):
    keys = []
    try:
        for page in s3c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix_):
            keys += [o["Key"] for o in page.get("Contents", [])]
    except s3c.exceptions.NoSuchBucket:
        check(bucket == f"{prefix}-{clients[-1]}", f"only the last client has no bucket, not {bucket}")
    return keys


def snapshot():
    """Every client object and ops-bucket object, the manifest without the two fields that say when."""
    out = {}
    for c in clients:
        for key in list_keys(f"{prefix}-{c}"):
            out[f"{c}/{key}"] = s3c.get_object(Bucket=f"{prefix}-{c}", Key=key)["Body"].read()
    for key in list_keys(ops):
        body = s3c.get_object(Bucket=ops, Key=key)["Body"].read()
        if key == MANIFEST:
            manifest = json.loads(body)
            check(manifest["duration_ms"] >= 0 and manifest["generated_at"], "manifest carries its time")
            del manifest["duration_ms"], manifest["generated_at"], manifest["run_id"]  # when, and which run
            for o in manifest["objects"]:
                # An undeliverable client's error quotes the service's request id, new on every request.
                if "error" in o:
                    o["error"] = re.sub(r"\(request id [^)]*\)", "(request id)", o["error"])
            body = json.dumps(manifest, sort_keys=True).encode()
        out[f"ops/{key}"] = body
    return out


def clear():
    for c in clients:
        for key in list_keys(f"{prefix}-{c}"):
            s3c.delete_object(Bucket=f"{prefix}-{c}", Key=key)
    for key in list_keys(ops):
        s3c.delete_object(Bucket=ops, Key=key)


def compare(reference, got, what):
    check(set(got) == set(reference), f"{what}: keys differ: only single {sorted(set(reference) - set(got))}, "
                                      f"only scaled-out {sorted(set(got) - set(reference))}")
    for k, body in reference.items():
        check(got[k] == body, f"{what}: {k} differs ({len(got[k])} vs {len(body)} bytes)")


proc = run_eaglesense(env, ["run", "--hour", HOUR], settings, check_codes=(3,))
single_summary = json.loads(proc.stdout)
reference = snapshot()
check(f"ops/{MANIFEST}" in reference and any(k.startswith("ops/undeliverable/") for k in reference),
      f"single run wrote the manifest and the undeliverable copy: {sorted(reference)}")
check(f"ops/rejected/{KEY}" in reference, "single run wrote the rejected file")
check(single_summary["events_read"] == 6012, f"read all events: {single_summary}")

for workers in (1, 3, 8):
    clear()
    proc = run_eaglesense(env, ["run", "--hour", HOUR, "--workers", str(workers)], settings, check_codes=(3,))
    summary = json.loads(proc.stdout)
    for field in ("events_read", "events_delivered", "events_rejected", "events_undeliverable", "objects", "bytes"):
        check(summary[field] == single_summary[field], f"W={workers}: {field} {summary[field]} != {single_summary[field]}")
    got = snapshot()
    compare(reference, got, f"W={workers}")
    check(not any(k.startswith("ops/staging/") for k in got), f"W={workers}: staging left behind")
    stages = [json.loads(line) for line in proc.stderr.splitlines() if '"scale_out.hour_done"' in line]
    check(len(stages) == 1 and stages[0]["workers"] == workers, f"W={workers}: stage times logged: {stages}")
    print(f"W={workers}: identical to the single run; stages {stages[0]}")

# A work process killed mid-read: nothing can be merged or finished until that unit is re-run.
clear()
run_eaglesense(env, ["plan", "--hour", HOUR, "--workers", "3"], settings)
for unit in (0, 2):
    run_eaglesense(env, ["work", "--hour", HOUR, "--unit", str(unit)], settings)

# Unit 1 reads from a DynamoDB endpoint that accepts connections and never answers, so it is surely
# still reading when it is killed.
blackhole = socket.socket()
blackhole.bind(("127.0.0.1", 0))
blackhole.listen(8)
child_env = dict(os.environ)
child_env.update({k: v for k, v in env.items() if not k.startswith("_")})
child_env.update(settings)
child_env["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://127.0.0.1:{blackhole.getsockname()[1]}"
child_env["AWS_EC2_METADATA_DISABLED"] = "true"
victim = subprocess.Popen([binary_path(env), "work", "--hour", HOUR, "--unit", "1"], env=child_env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.0)
victim.send_signal(signal.SIGKILL)
check(victim.wait(timeout=30) == -signal.SIGKILL, "the work process was killed")
blackhole.close()
# (Listed whole and filtered here: moto checks the signature of a prefix with '/' wrongly, for boto3 too.)
check(f"staging/{HOUR}/_units/unit-00001.json" not in list_keys(ops), "a killed unit has no unit manifest")

for args in (["merge", "--hour", HOUR, "--list-clients"], ["merge", "--hour", HOUR, "--client", clients[0]],
             ["merge", "--hour", HOUR, "--finish"]):
    proc = run_eaglesense(env, args, settings, check_codes=(1,))
    check("StageNotReady" in proc.stderr and "--unit 1" in proc.stderr,
          f"{' '.join(args)} refuses to start before unit 1 is done: {proc.stderr[-2000:]}")
check(not list_keys(f"{prefix}-{clients[0]}"), "nothing merged while a unit is missing")
check(not any(k.startswith("manifests/") for k in list_keys(ops)), "no manifest while a unit is missing")

run_eaglesense(env, ["work", "--hour", HOUR, "--unit", "1"], settings)
items = json.loads(run_eaglesense(env, ["merge", "--hour", HOUR, "--list-clients"], settings).stdout)
check([i["client"] for i in items] == clients, f"merge items: {items}")
for item in items:
    run_eaglesense(env, ["merge", "--hour", HOUR, "--client", item["client"]], settings, check_codes=(0, 3))
proc = run_eaglesense(env, ["merge", "--hour", HOUR, "--finish"], settings, check_codes=(3,))
healed = snapshot()
compare(reference, healed, "after re-running the killed unit")
check(not any(k.startswith("ops/staging/") for k in healed), "staging deleted after finish")
print("killed unit: merges refused, re-running the unit healed the hour byte for byte")
