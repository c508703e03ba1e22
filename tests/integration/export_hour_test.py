"""End to end: `eaglesense run` exports an hour, checked by boto3 as an independent reader.

Items are written with boto3 (its own serializer), exported by build/eaglesense, and every object is
read back with boto3 and compared with the items as the low-level client reads them back: values exact
(numbers by their digits as text, so 1.50 exported as 1.5 fails; binary as base64, sets as multisets),
window boundaries and offsets, ordering, rejected and undeliverable accounting, the manifest's figures,
byte-identical reruns and --catch-up.
"""
import datetime as dt
import hashlib
import json
import os
import random
import sys
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from es_harness import (Binary, check, dynamodb, load_env, load_exported, read_table, run_eaglesense, s3,  # noqa: E402
                        same_value, unique)

env = load_env()
ddb = dynamodb(env)
s3c = s3(env)
prefix = unique("es-exp")
table_name = prefix
ops = f"{prefix}-ops"
H = dt.datetime(2026, 11, 29, 10, tzinfo=dt.timezone.utc)
HOUR = "2026-11-29T10"
KEY = "events-2026-11-29-10.json"

table = ddb.create_table(
    TableName=table_name,
    KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
for b in [ops, f"{prefix}-alpha", f"{prefix}-beta"]:  # no bucket for "gamma": undeliverable
    s3c.create_bucket(Bucket=b)

nested = {"leaf": Decimal("1")}
for depth in range(19):
    nested = {"level": Decimal(depth), "child": nested} if depth % 2 else {"list": [nested, "x"]}

expected = {}  # eventId -> (client, instant) for events that must be delivered
rejected = {}  # eventId -> reason
items = []


def add(event_id, client, time, instant=None, reason=None, **payload):
    item = {"eventId": event_id, **payload}
    if client is not None:
        item["clientId"] = client
    if time is not None:
        item["time"] = time
    items.append(item)
    if reason:
        rejected[event_id] = reason
    elif instant is not None:
        expected[event_id] = (client, instant)


def at(minutes=0, seconds=0, micros=0, hours=0):
    return H + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=micros)


# Every type and extreme value, on alpha.
add("t-types", "alpha", "2026-11-29T10:00:01Z", at(seconds=1),
    s="text", n38=Decimal("12345678901234567890123456789012345678"), big=Decimal("1E+125"),
    tiny=Decimal("-1E-130"), frac=Decimal("0.1"), neg=Decimal("-42"), trailing_zero=Decimal("1.50"),
    exp_form=Decimal("1.0E+2"), yes=True, no=False, nothing=None,
    bin=Binary(bytes(range(256))), ss={"b", "a", "é"}, ns={Decimal("1"), Decimal("2.5"), Decimal("-3")},
    bs={Binary(b"x"), Binary(b"\x00\xff")}, lst=["a", Decimal("1"), {"k": "v"}, [True, None]],
    m={"z": "last", "a": "first", "nested": {"deep": ["d"]}},
    unicode="snow ☃, line sep \u2028, para sep \u2029, emoji 😀, quotes \" and \\ and \x01\t\n",
    big_string="x" * 100_000, deep=nested)
# Window boundaries and offsets.
add("t-start", "alpha", "2026-11-29T10:00:00.000000Z", at())
add("t-end-excluded", "alpha", "2026-11-29T11:00:00Z")
add("t-last-micro", "alpha", "2026-11-29T10:59:59.999999Z", at(minutes=59, seconds=59, micros=999999))
add("t-before", "alpha", "2026-11-29T09:59:59.999999Z")
add("t-plus0530", "alpha", "2026-11-29T15:45:00+05:30", at(minutes=15))
add("t-minus0500", "alpha", "2026-11-29T05:30:00-05:00", at(minutes=30))
add("t-plus14", "alpha", "2026-11-30T00:10:00+14:00", at(minutes=10))
add("t-minus14", "alpha", "2026-11-28T20:20:00-14:00", at(minutes=20))
add("t-plus0530-out", "alpha", "2026-11-29T16:30:00+05:30")  # 11:00Z: next hour
add("t-space", "alpha", "2026-11-29 10:40:00Z", at(minutes=40))
add("t-epoch-s", "alpha", Decimal(int(at(minutes=41).timestamp())), at(minutes=41))
add("t-epoch-ms", "alpha", Decimal(int(at(minutes=42).timestamp() * 1000) + 7), at(minutes=42, micros=7000))
add("t-epoch-out", "alpha", Decimal(int(at(hours=2).timestamp())))
# Many events on beta, in random order, some sharing a time (ordered by eventId then).
rng = random.Random(7)
for i in range(300):
    t = at(seconds=rng.randrange(3600)) if i % 10 else at(minutes=30)
    add(f"b-{rng.randrange(10**9):09d}-{i}", "beta", t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), t, payload=i)
# gamma has no bucket.
for i in range(5):
    add(f"g-{i}", "gamma", f"2026-11-29T10:0{i}:00Z", at(minutes=i), undeliverable=True)
# Rejected, each with its reason.
add("r-no-client", None, "2026-11-29T10:05:00Z", reason="missing_client_id")
add("r-empty-client", "", "2026-11-29T10:05:00Z", reason="empty_client_id")
add("r-upper", "Alpha", "2026-11-29T10:05:00Z", reason="invalid_client_id")
add("r-traversal", "../alpha", "2026-11-29T10:05:00Z", reason="invalid_client_id")
add("r-bad-time", "alpha", "2026-11-29T10:75:00Z", reason="unparseable_time")
add("r-no-time", "alpha", None, reason="missing_time")
add("r-bool-time", "alpha", True, reason="time_wrong_type")
add("r-client-number", Decimal(5), "2026-11-29T10:05:00Z", reason="client_id_wrong_type")

with table.batch_writer() as batch:
    for item in items:
        batch.put_item(Item=item)

undeliverable_ids = {k for k, v in expected.items() if v[0] == "gamma"}
settings = {"DYNAMODB_TABLE_NAME": table_name, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "4"}


def export():
    proc = run_eaglesense(env, ["run", "--hour", HOUR], settings, check_codes=(3,))
    return json.loads(proc.stdout), proc


summary, proc = export()
delivered_ids = {k for k in expected if k not in undeliverable_ids}
check(summary["events_read"] == summary["events_delivered"] + summary["events_rejected"] +
      summary["events_undeliverable"], f"accounting: {summary}")
check(summary["events_delivered"] == len(delivered_ids), f"delivered {summary['events_delivered']} != {len(delivered_ids)}")
check(summary["events_undeliverable"] == len(undeliverable_ids), f"undeliverable: {summary}")
check(summary["events_rejected"] == len(rejected), f"rejected {summary['events_rejected']} != {len(rejected)}")
for line in proc.stderr.splitlines():
    json.loads(line)  # stderr is one JSON object per line

# Each client's object equals boto3's view of its items, in (instant, eventId) order.
by_id = read_table(env, table_name)  # one consistent Scan, low-level client: numbers as stored
check(set(by_id) == {it["eventId"] for it in items}, "the table holds exactly the items written")
objects = {}
for client in ["alpha", "beta"]:
    obj = s3c.get_object(Bucket=f"{prefix}-{client}", Key=KEY)
    body = obj["Body"].read()
    objects[client] = body
    text = body.decode("utf-8")
    lines = text.split("\n")
    check(lines[0] == "[" and lines[-2] == "]" and lines[-1] == "", f"{client}: not a JSON array, one event per line")
    events = load_exported(text)
    want = sorted((inst, eid) for eid, (c, inst) in expected.items() if c == client)
    got_ids = [e["eventId"] for e in events]
    check(got_ids == [eid for _, eid in want], f"{client}: order/content differs:\n{got_ids[:20]}\n{[e for _, e in want][:20]}")
    for e in events:
        problems = same_value(by_id[e["eventId"]], e, e["eventId"])
        check(not problems, "\n".join(problems[:10]))
    meta = obj["Metadata"]
    check(meta.get("event-count") == str(len(events)), f"{client}: metadata {meta}")
    check(meta.get("window-start", "").startswith("2026-11-29T10:00:00"), f"{client}: metadata {meta}")
    check(len(lines) - 3 == len(events), f"{client}: one event per line")

# Undeliverable: gamma's object is kept in the ops bucket.
kept = load_exported(s3c.get_object(Bucket=ops, Key=f"undeliverable/gamma/{KEY}")["Body"].read())
check(sorted(e["eventId"] for e in kept) == sorted(undeliverable_ids), "undeliverable object content")

# Rejected: every one with its reason and the item.
rej = json.loads(s3c.get_object(Bucket=ops, Key="rejected/events-2026-11-29-10.json")["Body"].read())
got = {r["eventId"]: r["reason"] for r in rej}
check(got == rejected, f"rejected reasons differ:\n{got}\n{rejected}")

# Manifest: figures match the objects.
manifest = json.loads(s3c.get_object(Bucket=ops, Key="manifests/2026/11/29/10.json")["Body"].read())
check(manifest["events_read"] == summary["events_read"], "manifest events_read")
check(manifest["rejected_key"] == "rejected/events-2026-11-29-10.json", "manifest rejected key")
for entry in manifest["objects"]:
    if entry["status"] == "delivered":
        body = objects[entry["client"]]
        check(entry["bytes"] == len(body), f"manifest bytes for {entry['client']}")
        check(entry["sha256"] == hashlib.sha256(body).hexdigest(), f"manifest sha256 for {entry['client']}")
        check(entry["events"] == len(load_exported(body)), f"manifest events for {entry['client']}")
    else:
        check(entry["client"] == "gamma" and entry["status"] == "undeliverable", f"manifest entry {entry}")

# A rerun writes byte-identical objects.
summary2, _ = export()
for client in ["alpha", "beta"]:
    again = s3c.get_object(Bucket=f"{prefix}-{client}", Key=KEY)["Body"].read()
    check(again == objects[client], f"{client}: rerun changed the object")
check(summary2["events_read"] == summary["events_read"], "rerun read a different count")

# --catch-up: the last complete hour has no events and no manifest: exported (empty); then skipped.
catch = json.loads(run_eaglesense(env, ["run", "--catch-up", "2"], settings).stdout)
statuses = [h["status"] for h in catch["hours"]]
check(statuses == ["exported", "exported"], f"catch-up first pass: {statuses}")
catch2 = json.loads(run_eaglesense(env, ["run", "--catch-up", "2"], settings).stdout)
statuses2 = [h["status"] for h in catch2["hours"]]
check(statuses2 == ["skipped", "skipped"], f"catch-up second pass should skip complete hours: {statuses2}")

# A bad setting stops before any I/O, naming the setting (exit 2).
bad = run_eaglesense(env, ["run", "--hour", HOUR], {**settings, "OUTPUT_FORMAT": "xml"}, check_codes=(2,))
check("OUTPUT_FORMAT" in bad.stderr, f"config error must name the setting: {bad.stderr}")
print(f"ok: {len(items)} items, {summary['events_delivered']} delivered, {summary['events_rejected']} rejected, "
      f"{summary['events_undeliverable']} undeliverable")
