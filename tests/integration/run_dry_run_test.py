"""`eaglesense run --dry-run` reads and encodes the hour and writes nothing anywhere.

A table with delivered, rejected and undeliverable events; the run reports them as a real run would
(status dry_run), and afterwards every bucket is as empty as before: no client object, no rejected or
undeliverable copy, no manifest. A real run of the same hour then writes them, so an empty result
is not the table's fault.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from es_harness import check, dynamodb, load_env, run_eaglesense, s3, unique  # noqa: E402

env = load_env()
ddb = dynamodb(env)
s3c = s3(env)
prefix = unique("es-dry")
ops = f"{prefix}-ops"
HOUR = "2026-11-29T10"

table = ddb.create_table(
    TableName=prefix,
    KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
buckets = [ops, f"{prefix}-alpha", f"{prefix}-beta"]  # no bucket for "gamma": undeliverable
for b in buckets:
    s3c.create_bucket(Bucket=b)

with table.batch_writer() as batch:
    for i in range(40):
        client = ["alpha", "beta", "gamma", "Not Valid"][i % 4]
        batch.put_item(Item={"eventId": f"e{i:03d}", "clientId": client,
                             "time": f"2026-11-29T10:{i % 60:02d}:00Z", "n": i})

settings = {"DYNAMODB_TABLE_NAME": prefix, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "2"}


def keys(bucket):
    return [o["Key"] for o in s3c.list_objects_v2(Bucket=bucket).get("Contents", [])]


dry = json.loads(run_eaglesense(env, ["run", "--hour", HOUR, "--dry-run"], settings).stdout)
check(dry["hours"][0]["status"] == "dry_run", f"dry run status: {dry['hours']}")
check(dry["events_read"] == 40, f"dry run read {dry['events_read']} of 40")
check(dry["events_rejected"] == 10, f"dry run rejected {dry['events_rejected']} of 10")
for b in buckets:
    check(keys(b) == [], f"--dry-run wrote into {b}: {keys(b)}")

# The same hour for real: the objects the dry run did not write.
real = run_eaglesense(env, ["run", "--hour", HOUR], settings, check_codes=(3,))
summary = json.loads(real.stdout)
check(summary["events_delivered"] == 20 and summary["events_undeliverable"] == 10, f"real run: {summary}")
check(keys(f"{prefix}-alpha") == ["events-2026-11-29-10.json"], f"alpha: {keys(prefix + '-alpha')}")
check("manifests/2026/11/29/10.json" in keys(ops), f"ops: {keys(ops)}")
print("ok: the dry run wrote nothing; the real run wrote the hour")
