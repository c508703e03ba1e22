"""End to end: `eaglesense run --from H1 --to H2` and `run --catch-up N` through the local servers.

--from/--to: four hours across midnight (ndjson + gzip), with events also in the hour before and the
hour after the range and one hour of the range without any event. Each hour of the range gets its
objects (compared value for value with the table, numbers by their digits) and its manifest; the hours
outside get nothing; a second run rewrites the same bytes.

--catch-up: relative to the clock, so events go into the actual last complete hours (from
datetime.now(UTC)) and into the current, incomplete hour. --catch-up 3 exports exactly the last three
complete hours (the summary lists them, oldest first: no off-by-one at either end, the current hour is
left alone, an event at the current hour's first microsecond is not exported); a second run skips all
three (their manifests exist); after one manifest is deleted only that hour is exported again, with the
same bytes; --catch-up 5 adds the two older hours.
"""
import datetime as dt
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from es_harness import (batch_put_raw, check, decompress, dynamodb_client, json_events, load_env,  # noqa: E402
                        object_key, read_table, run_eaglesense, s3, same_value, unique)

started = time.monotonic()
UTC = dt.timezone.utc
env = load_env()
s3c = s3(env)
ddb = dynamodb_client(env)
prefix = unique("es-rng")
table_name = prefix
ops = f"{prefix}-ops"
CLIENTS = ["alpha", "beta"]

ddb.create_table(TableName=table_name, KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")
ddb.get_waiter("table_exists").wait(TableName=table_name)
for b in [ops] + [f"{prefix}-{c}" for c in CLIENTS]:
    s3c.create_bucket(Bucket=b)


def label(hour):
    return hour.strftime("%Y-%m-%dT%H")


def manifest_key(hour):
    return hour.strftime("manifests/%Y/%m/%d/%H.json")


def iso(instant):
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


items = []
placed = {}  # eventId -> (client, instant)


def add(event_id, client, instant, **extra):
    item = {"eventId": {"S": event_id}, "clientId": {"S": client}, "time": {"S": iso(instant)},
            "n": {"N": "1.50"}, "big": {"N": "1E+125"}, "tags": {"SS": ["a", "é"]}, **extra}
    items.append(item)
    placed[event_id] = (client, instant)


def seed_hour(hour, clients, n, tag):
    """n events per client spread over the hour, plus one at its first and one at its last microsecond."""
    for client in clients:
        add(f"{tag}-{client}-first", client, hour)
        add(f"{tag}-{client}-last", client, hour + dt.timedelta(hours=1, microseconds=-1))
        for i in range(n):
            add(f"{tag}-{client}-{i:03d}", client, hour + dt.timedelta(seconds=(i * 997) % 3600, microseconds=i),
                payload={"M": {"i": {"N": str(i)}, "hour": {"S": label(hour)}}})


def expected_ids(hour, client):
    end = hour + dt.timedelta(hours=1)
    return [eid for inst, eid in sorted((inst, eid) for eid, (c, inst) in placed.items()
                                        if c == client and hour <= inst < end)]


def check_hour(hour, settings, fmt, compression, stored):
    """The hour's manifest and objects: one object per client with events, equal to the table's events."""
    manifest = json.loads(s3c.get_object(Bucket=ops, Key=manifest_key(hour))["Body"].read())
    check(manifest.get("format") == fmt and manifest.get("compression") == compression, f"{label(hour)}: {manifest}")
    window = manifest["window"]
    check(window["hour"] == label(hour) and window["start"].startswith(hour.strftime("%Y-%m-%dT%H:00:00")) and
          window["end"].startswith((hour + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:00:00")),
          f"{label(hour)}: manifest window {window}")
    check(manifest["events_read"] == sum(len(expected_ids(hour, c)) for c in CLIENTS), f"{label(hour)}: {manifest}")
    entries = {o["client"]: o for o in manifest["objects"]}
    want_clients = sorted(c for c in CLIENTS if expected_ids(hour, c))
    check(sorted(entries) == want_clients, f"{label(hour)}: manifest clients {sorted(entries)} != {want_clients}")
    bodies = {}
    for client in CLIENTS:
        key = object_key(hour, fmt, compression)
        want = expected_ids(hour, client)
        listed = [o["Key"] for o in s3c.list_objects_v2(Bucket=f"{prefix}-{client}", Prefix=key).get("Contents", [])]
        if not want:
            check(listed == [], f"{label(hour)}/{client}: no events, yet {listed}")
            continue
        body = s3c.get_object(Bucket=f"{prefix}-{client}", Key=key)["Body"].read()
        bodies[client] = body
        entry = entries[client]
        check(entry["key"] == key and entry["status"] == "delivered" and entry["events"] == len(want) and
              entry["sha256"] == hashlib.sha256(body).hexdigest(), f"{label(hour)}/{client}: manifest entry {entry}")
        events = json_events(decompress(body, compression).decode(), fmt)
        check([e["eventId"] for e in events] == want, f"{label(hour)}/{client}: events {len(events)} != {len(want)}")
        for e in events:
            problems = same_value(stored[e["eventId"]], e, f"{label(hour)}:{e['eventId']}")
            check(not problems, "\n".join(problems[:10]))
    report = json.loads(run_eaglesense(env, ["verify", "--hour", label(hour), "--json"], settings).stdout)
    check(report["ok"], f"{label(hour)}: verify {report}")
    return bodies


def has_manifest(hour):
    # Listed without a prefix: moto 5.2 refuses the signature of a ListObjectsV2 whose prefix holds a '/'.
    keys = [o["Key"] for page in s3c.get_paginator("list_objects_v2").paginate(Bucket=ops) for o in page.get("Contents", [])]
    return manifest_key(hour) in keys


# ---- --from / --to ---------------------------------------------------------------------------------------
R0 = dt.datetime(2026, 11, 27, 22, tzinfo=UTC)
RANGE = [R0 + dt.timedelta(hours=i) for i in range(4)]  # 27T22, 27T23, 28T00 (no events), 28T01
BEFORE, AFTER = R0 - dt.timedelta(hours=1), R0 + dt.timedelta(hours=4)
seed_hour(BEFORE, CLIENTS, 5, "before")
seed_hour(RANGE[0], CLIENTS, 30, "r0")
seed_hour(RANGE[1], ["alpha"], 25, "r1")
seed_hour(RANGE[3], CLIENTS, 20, "r3")
seed_hour(AFTER, CLIENTS, 5, "after")

# ---- --catch-up: the clock decides the hours -------------------------------------------------------------
now = dt.datetime.now(UTC)
current = now.replace(minute=0, second=0, microsecond=0)
if current + dt.timedelta(hours=1) - now < dt.timedelta(seconds=90):  # keep the whole section in one hour
    time.sleep((current + dt.timedelta(hours=1) - now).total_seconds() + 2)
    now = dt.datetime.now(UTC)
    current = now.replace(minute=0, second=0, microsecond=0)
last = current - dt.timedelta(hours=1)  # the last complete hour
CATCH = [last - dt.timedelta(hours=i) for i in range(4, -1, -1)]  # L-4 .. L, oldest first
for i, hour in enumerate(CATCH):
    seed_hour(hour, CLIENTS, 8 + i, f"c{i}")
add("current-first", "alpha", current)  # the current hour's first microsecond: not complete, not exported
add("current-mid", "beta", current + (now - current) / 2)

batch_put_raw(env, table_name, items)
stored = read_table(env, table_name)
check(len(stored) == len(items), "every item is in the table")

# --from/--to, ndjson + gzip.
range_settings = {"DYNAMODB_TABLE_NAME": table_name, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "3",
                  "OUTPUT_FORMAT": "ndjson", "EAGLESENSE_COMPRESSION": "gzip"}
summary = json.loads(run_eaglesense(env, ["run", "--from", label(RANGE[0]), "--to", label(RANGE[-1])],
                                    range_settings).stdout)
check([h["hour"] for h in summary["hours"]] == [label(h) for h in RANGE], f"range hours: {summary['hours']}")
check(all(h["status"] == "exported" for h in summary["hours"]), f"range statuses: {summary['hours']}")
check(summary["hours_exported"] == 4 and summary["hours_skipped"] == 0, f"range summary: {summary}")
for report, hour in zip(summary["hours"], RANGE):
    n = sum(len(expected_ids(hour, c)) for c in CLIENTS)
    check(report["events_read"] == n and report["events_delivered"] == n, f"{label(hour)}: {report}, want {n}")
check(summary["events_read"] == sum(len(expected_ids(h, c)) for h in RANGE for c in CLIENTS), "range total")
range_bodies = {label(h): check_hour(h, range_settings, "ndjson", "gzip", stored) for h in RANGE}
check(range_bodies[label(RANGE[2])] == {}, "the hour without events has no objects")
for hour in (BEFORE, AFTER):
    check(not has_manifest(hour), f"{label(hour)} is outside the range, yet has a manifest")
    for c in CLIENTS:
        key = object_key(hour, "ndjson", "gzip")
        check(not s3c.list_objects_v2(Bucket=f"{prefix}-{c}", Prefix=key).get("Contents"), f"{label(hour)}/{c} exported")
# A second --from/--to exports every hour again (it never skips), with the same bytes.
again = json.loads(run_eaglesense(env, ["run", "--from", label(RANGE[0]), "--to", label(RANGE[-1])],
                                  range_settings).stdout)
check([h["status"] for h in again["hours"]] == ["exported"] * 4, f"range rerun: {again['hours']}")
for hour in RANGE:
    for client, body in range_bodies[label(hour)].items():
        key = object_key(hour, "ndjson", "gzip")
        check(s3c.get_object(Bucket=f"{prefix}-{client}", Key=key)["Body"].read() == body, f"{label(hour)}/{client} changed")
# --to before --from is a configuration error.
run_eaglesense(env, ["run", "--from", label(RANGE[1]), "--to", label(RANGE[0])], range_settings, check_codes=(2,))

# --catch-up, json.
catch_settings = {"DYNAMODB_TABLE_NAME": table_name, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "3"}


def catch_up(n):
    before = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    result = json.loads(run_eaglesense(env, ["run", "--catch-up", str(n)], catch_settings).stdout)
    after = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    check(before == current and after == current, "the clock crossed an hour during the catch-up section: rerun")
    return result


def statuses(result):
    return [(h["hour"], h["status"]) for h in result["hours"]]


first = catch_up(3)
want = [(label(h), "exported") for h in CATCH[2:]]
check(statuses(first) == want, f"--catch-up 3 at {now.isoformat()}: {statuses(first)} != {want}")
for report, hour in zip(first["hours"], CATCH[2:]):
    check(report["events_read"] == sum(len(expected_ids(hour, c)) for c in CLIENTS), f"{label(hour)}: {report}")
catch_bodies = {label(h): check_hour(h, catch_settings, "json", "none", stored) for h in CATCH[2:]}
for hour in (CATCH[0], CATCH[1], current):
    check(not has_manifest(hour), f"--catch-up 3 touched {label(hour)}")
    for c in CLIENTS:
        check(not s3c.list_objects_v2(Bucket=f"{prefix}-{c}", Prefix=object_key(hour)).get("Contents"),
              f"--catch-up 3 exported {label(hour)}/{c}")

second = catch_up(3)
check(statuses(second) == [(label(h), "skipped") for h in CATCH[2:]], f"second --catch-up 3: {statuses(second)}")
check(second["events_read"] == 0 and second["hours_skipped"] == 3, f"second --catch-up 3: {second}")

s3c.delete_object(Bucket=ops, Key=manifest_key(CATCH[3]))
third = catch_up(3)
check(statuses(third) == [(label(CATCH[2]), "skipped"), (label(CATCH[3]), "exported"), (label(CATCH[4]), "skipped")],
      f"--catch-up 3 after deleting {label(CATCH[3])}'s manifest: {statuses(third)}")
for client, body in catch_bodies[label(CATCH[3])].items():
    check(s3c.get_object(Bucket=f"{prefix}-{client}", Key=object_key(CATCH[3]))["Body"].read() == body,
          f"{label(CATCH[3])}/{client}: the re-export changed the object")
check_hour(CATCH[3], catch_settings, "json", "none", stored)

fourth = catch_up(5)
check(statuses(fourth) == [(label(CATCH[0]), "exported"), (label(CATCH[1]), "exported")] +
      [(label(h), "skipped") for h in CATCH[2:]], f"--catch-up 5: {statuses(fourth)}")
for hour in CATCH[:2]:
    check_hour(hour, catch_settings, "json", "none", stored)
check(not has_manifest(current), "the current hour must never be exported by --catch-up")
check(statuses(catch_up(1)) == [(label(last), "skipped")], "--catch-up 1 is the last complete hour")

print(f"ok ({env.get('EAGLESENSE_BACKEND')}): --from {label(RANGE[0])} --to {label(RANGE[-1])} exported 4 hours; "
      f"--catch-up at {now.strftime('%H:%M:%S')} took {label(CATCH[2])}..{label(last)}, then skipped, redid one, "
      f"extended to {label(CATCH[0])}; {len(items)} items in {time.monotonic() - started:.1f}s")
