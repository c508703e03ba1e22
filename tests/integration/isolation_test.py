"""Tenant isolation through the real binary: the allow-list (EAGLESENSE_CLIENTS) and the expected
bucket owner.

Three clients, each with its bucket. Hour 10 runs with the inline list "alpha,beta": gamma's events
are rejected as client_not_allowed and nothing is written into its bucket. Hour 11 runs with the
list in an object of the ops bucket (s3://{ops}/config/clients.txt, comments and blank lines):
only alpha is let through. Hour 12 names an object that does not exist: the run fails with exit 2
naming EAGLESENSE_CLIENTS before any hour is written (no object, no rejected file, no manifest).
Every run sends the expected bucket owner (the backend's account, moto's 123456789012; s3rver
ignores it) to the client buckets and the ops bucket alike.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from es_harness import check, dynamodb, load_env, run_eaglesense, s3, unique  # noqa: E402

env = load_env()
ddb = dynamodb(env)
s3c = s3(env)
prefix = unique("es-iso")
ops = f"{prefix}-ops"
CLIENTS = ["alpha", "beta", "gamma"]
HOURS = ["2026-11-29T10", "2026-11-29T11", "2026-11-29T12"]

table = ddb.create_table(
    TableName=prefix,
    KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
for b in [ops] + [f"{prefix}-{c}" for c in CLIENTS]:
    s3c.create_bucket(Bucket=b)

with table.batch_writer() as batch:
    for h, hour in enumerate(HOURS):
        for i in range(30):
            batch.put_item(Item={"eventId": f"h{h}-e{i:03d}", "clientId": CLIENTS[i % 3],
                                 "time": f"{hour}:{i:02d}:00Z", "n": i})

settings = {"DYNAMODB_TABLE_NAME": prefix, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "2",
            "EAGLESENSE_EXPECTED_BUCKET_OWNER": "123456789012"}


def keys(bucket):
    return sorted(o["Key"] for o in s3c.list_objects_v2(Bucket=bucket).get("Contents", []))


def rejected(hour):
    key = f"rejected/events-{hour.replace('T', '-')}.json"
    return json.loads(s3c.get_object(Bucket=ops, Key=key)["Body"].read())


def check_hour(hour, allowed, summary):
    label = hour.replace("T", "-")
    check(summary["events_read"] == 30, f"{hour}: read {summary['events_read']} of 30")
    check(summary["events_delivered"] == 10 * len(allowed), f"{hour}: {summary}")
    check(summary["events_rejected"] == 10 * (3 - len(allowed)), f"{hour}: {summary}")
    check(summary["events_read"] == summary["events_delivered"] + summary["events_rejected"] +
          summary["events_undeliverable"], f"{hour}: the accounting does not balance: {summary}")
    refused = [r for r in rejected(hour) if r["reason"] == "client_not_allowed"]
    check(len(refused) == 10 * (3 - len(allowed)), f"{hour}: {len(refused)} client_not_allowed entries")
    for r in refused:
        check(r["clientId"] not in allowed, f"{hour}: an allowed client rejected: {r}")
        check(f"'{r['clientId']}'" in r["message"], f"{hour}: the message does not name the client: {r}")
    for c in CLIENTS:
        objects = keys(f"{prefix}-{c}")
        written = f"events-{label}.json" in objects
        check(written == (c in allowed), f"{hour}: {c}'s bucket holds {objects}")
    check(not any(k.startswith("undeliverable/") for k in keys(ops)), f"{hour}: undeliverable: {keys(ops)}")


# Inline list.
run = run_eaglesense(env, ["run", "--hour", HOURS[0]], {**settings, "EAGLESENSE_CLIENTS": "alpha, beta"})
check_hour(HOURS[0], {"alpha", "beta"}, json.loads(run.stdout))

# The list in an object, read once by the run.
s3c.put_object(Bucket=ops, Key="config/clients.txt", Body=b"# onboarded clients\nalpha\n\n# beta: not yet\n")
run = run_eaglesense(env, ["run", "--hour", HOURS[1]],
                     {**settings, "EAGLESENSE_CLIENTS": f"s3://{ops}/config/clients.txt"})
check_hour(HOURS[1], {"alpha"}, json.loads(run.stdout))

# A list that cannot be read fails the run before any hour is written.
before = {b: keys(b) for b in [ops] + [f"{prefix}-{c}" for c in CLIENTS]}
missing = run_eaglesense(env, ["run", "--hour", HOURS[2]],
                         {**settings, "EAGLESENSE_CLIENTS": f"s3://{ops}/config/missing.txt"}, check_codes=(2,))
check("EAGLESENSE_CLIENTS" in missing.stderr, f"the error does not name the setting:\n{missing.stderr}")
after = {b: keys(b) for b in before}
check(after == before, f"a run without its allow-list wrote: {before} -> {after}")

# A bad id in the list is refused at load, naming the setting.
bad = run_eaglesense(env, ["run", "--hour", HOURS[2]], {**settings, "EAGLESENSE_CLIENTS": "alpha,Beta"},
                     check_codes=(2,))
check("EAGLESENSE_CLIENTS" in bad.stderr, f"the error does not name the setting:\n{bad.stderr}")
print("ok: only the allowed clients were written; the others rejected as client_not_allowed")
