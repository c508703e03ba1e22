"""End to end: what `eaglesense run --catch-up N` does across time, through the local servers.

The last three complete hours (from the real clock) are exported; then, as in production:
- a late event is written into the oldest hour: the next catch-up re-exports that hour as revision 2
  (reason late_events), with the late event in the client's object and revision 1 in its history;
- the bucket of a client that had none is created: the next catch-up delivers its object (the same
  bytes as the ops bucket's undeliverable copy), deletes the copy, and the manifest says delivered,
  with when (revision 2, redelivery);
- an item of the newest hour is deleted (a TTL): the client's object is left as it was and the hour
  reports source_shrank; `--allow-shrink` then rewrites it;
- a catch-up of unchanged hours writes nothing (their manifests keep their revision);
- a 24-hour backfill (--from/--to) reads the table with one scan: items_scanned is the table's size.
"""
import datetime as dt
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from es_harness import (batch_put_raw, check, dynamodb_client, json_events, load_env, object_key,  # noqa: E402
                        run_eaglesense, s3, unique)

started = time.monotonic()
UTC = dt.timezone.utc
env = load_env()
s3c = s3(env)
ddb = dynamodb_client(env)
prefix = unique("es-cu")
table_name = prefix
ops = f"{prefix}-ops"

# The hours come from the clock: stay clear of an hour's end so that every run sees the same hours.
now = dt.datetime.now(UTC)
if now.minute == 59:
    time.sleep(62 - now.second)
current = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
H1, H2, H3 = (current - dt.timedelta(hours=n) for n in (3, 2, 1))

ddb.create_table(TableName=table_name, KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")
ddb.get_waiter("table_exists").wait(TableName=table_name)
for b in (ops, f"{prefix}-alpha", f"{prefix}-beta"):  # gamma's bucket comes later
    s3c.create_bucket(Bucket=b)


def label(hour):
    return hour.strftime("%Y-%m-%dT%H")


def iso(instant):
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event(event_id, client, instant, n=1):
    return {"eventId": {"S": event_id}, "clientId": {"S": client}, "time": {"S": iso(instant)},
            "n": {"N": str(n)}}


items = []
for hour in (H1, H2, H3):
    for client in ("alpha", "beta"):
        for i in range(8):
            items.append(event(f"{label(hour)}-{client}-{i}", client, hour + dt.timedelta(minutes=i * 7, seconds=i), i))
items += [event(f"{label(H2)}-gamma-{i}", "gamma", H2 + dt.timedelta(minutes=5 * i)) for i in range(3)]
items.append(event("now", "alpha", current + dt.timedelta(seconds=1)))  # the current hour: never exported
batch_put_raw(env, table_name, items)

settings = {"DYNAMODB_TABLE_NAME": table_name, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "3"}


def run(args, codes=(0,)):
    result = json.loads(run_eaglesense(env, ["run"] + args, settings, check_codes=codes).stdout)
    check(dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0) == current,
          "the clock crossed an hour during the test: rerun it")
    return result


def hours_of(result):
    return {h["hour"]: h for h in result["hours"]}


def manifest(hour):
    return json.loads(s3c.get_object(Bucket=ops, Key=hour.strftime("manifests/%Y/%m/%d/%H.json"))["Body"].read())


def body(bucket, key):
    return s3c.get_object(Bucket=bucket, Key=key)["Body"].read()


def exists(bucket, key):
    return any(o["Key"] == key for o in s3c.list_objects_v2(Bucket=bucket).get("Contents", []))


def entry(m, client):
    return next(o for o in m["objects"] if o["client"] == client)


# 1. The first catch-up: three hours, gamma's object set aside (no bucket): exit 3.
first = hours_of(run(["--catch-up", "3"], codes=(3,)))
check([first[label(h)]["status"] for h in (H1, H2, H3)] == ["exported", "undeliverable", "exported"],
      f"first catch-up: {first}")
check(all(manifest(h)["revision"] == 1 and manifest(h)["reason"] == "first_export" for h in (H1, H2, H3)),
      "first manifests are revision 1")
copy_key = f"undeliverable/gamma/{object_key(H2)}"
copy = body(ops, copy_key)
beta_h3 = body(f"{prefix}-beta", object_key(H3))
first_h1_manifest = s3c.get_object(Bucket=ops, Key=H1.strftime("manifests/%Y/%m/%d/%H.json"))["Body"].read()

# 2. Nothing changed: a catch-up writes nothing.
same = hours_of(run(["--catch-up", "3"], codes=(3,)))
check(same[label(H1)]["status"] == "skipped" and same[label(H1)].get("skip_reason") == "unchanged", f"{same}")
check(same[label(H2)]["status"] == "undeliverable" and same[label(H2)].get("redelivered") is None, f"{same}")
check(manifest(H1)["revision"] == 1 and manifest(H2)["revision"] == 1, "an unchanged hour keeps its revision")

# 3. A late event in H1, gamma's bucket appears, an item of H3 expires.
batch_put_raw(env, table_name, [event("late-one", "alpha", H1 + dt.timedelta(minutes=59), 99)])
s3c.create_bucket(Bucket=f"{prefix}-gamma")
ddb.delete_item(TableName=table_name, Key={"eventId": {"S": f"{label(H3)}-beta-3"}})
after = hours_of(run(["--catch-up", "3"]))

h1 = after[label(H1)]
check(h1["status"] == "exported" and h1["revision"] == 2 and h1["reason"] == "late_events", f"H1: {h1}")
m1 = manifest(H1)
check(m1["revision"] == 2 and m1["reason"] == "late_events" and len(m1["history"]) == 1, f"H1 manifest: {m1}")
check(m1["history"][0]["sha256"] == hashlib.sha256(first_h1_manifest).hexdigest(),
      "history keeps the SHA-256 of revision 1 as stored")
alpha_h1 = json_events(body(f"{prefix}-alpha", object_key(H1)).decode(), "json")
check("late-one" in [e["eventId"] for e in alpha_h1], "the late event arrived")

h2 = after[label(H2)]
check(h2["status"] == "exported" and h2["revision"] == 2 and h2["reason"] == "redelivery" and
      h2["redelivered"] == 1, f"H2: {h2}")
check(body(f"{prefix}-gamma", object_key(H2)) == copy, "gamma received the bytes of its undeliverable copy")
check(not exists(ops, copy_key), "the undeliverable copy is deleted once delivered")
g = entry(manifest(H2), "gamma")
check(g["status"] == "delivered" and g.get("delivered_at") and "undeliverable_key" not in g, f"gamma: {g}")
check(manifest(H2)["events_undeliverable"] == 0, "H2 has nothing undeliverable left")

h3 = after[label(H3)]
check(h3["status"] == "exported" and h3.get("source_shrank") == ["beta"], f"H3: {h3}")
check(body(f"{prefix}-beta", object_key(H3)) == beta_h3, "beta's object is left as it was")
b = entry(manifest(H3), "beta")
check(b["events"] == 8 and b["source_events"] == 7, f"beta's entry: {b}")
m3 = manifest(H3)
check(m3["events_read"] == m3["events_delivered"] + m3["events_rejected"] + m3["events_undeliverable"],
      f"H3 accounting: {m3}")

# 4. Unchanged again: nothing written.
quiet = hours_of(run(["--catch-up", "3"]))
check(all(quiet[label(h)]["status"] == "skipped" for h in (H1, H2, H3)), f"quiet catch-up: {quiet}")

# 5. --allow-shrink: the object follows the table.
shrunk = hours_of(run(["--hour", label(H3), "--allow-shrink"]))[label(H3)]
check(shrunk["revision"] == 3 and shrunk["reason"] == "manual_rerun" and not shrunk.get("source_shrank"),
      f"--allow-shrink: {shrunk}")
beta_now = json_events(body(f"{prefix}-beta", object_key(H3)).decode(), "json")
check(len(beta_now) == 7, f"beta's object after --allow-shrink has {len(beta_now)} events")

# 6. A 24-hour backfill reads the table once.
backfill = run(["--from", label(H3 - dt.timedelta(hours=23)), "--to", label(H3)])
check(len(backfill["hours"]) == 24, f"backfill hours: {len(backfill['hours'])}")
table_items = ddb.scan(TableName=table_name, Select="COUNT", ConsistentRead=True)["Count"]
check(backfill["items_scanned"] == table_items, f"one scan: items_scanned {backfill['items_scanned']} != {table_items}")
check(not any(h["hour"] == label(current) for h in backfill["hours"]), "the current hour is not in the backfill")

print(f"ok ({env.get('EAGLESENSE_BACKEND')}): late event -> revision 2, redelivery, source_shrank, unchanged "
      f"hours untouched, 24-hour backfill in one scan of {table_items} items; {time.monotonic() - started:.1f}s")
