"""End to end: spilling. `eaglesense run` with the smallest memory budget (EAGLESENSE_MEMORY_MB=16, which
leaves each reader 64 KiB of events: with several clients every Scan page spills) writes objects
byte-identical (SHA-256) to a run with the default budget (no spill) into other buckets, for json (the
merged events hashed, then sent as one PUT), ndjson+gzip and csv+zstd (merged through the compressor),
and csv of a client larger than one part (EAGLESENSE_PART_SIZE_MB=5: the spilled run's merge goes up as
a 2-part multipart upload, the unspilled run's as one PUT).

The main table: `eaglesense seed` events for five clients (the last without a bucket: undeliverable), bad
events (rejected), and 500 items written by boto3 with every value type and 4.5 KB strings, so that each
of the two Scan segments is two pages on both backends (a reader spills, reuses its blocks, spills
again). The large table: a few seeded events and 56 items of 100 KB for client-000. For each
combination: the spilled run's log says it spilled (the default run's does not), the spill directory is
empty afterwards, summaries, manifests (but for the prefixes and the times), undeliverable copies and
rejected files are equal, the objects hold every event, and `eaglesense verify` is clean on the spilled
hour. Also: a budget below 16 MB is refused, naming the setting.
"""
import atexit
import csv
import datetime as dt
import hashlib
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from es_harness import (batch_put_raw, check, decompress, json_events, load_env, object_key,  # noqa: E402
                        run_eaglesense, s3, unique)

started = time.monotonic()
env = load_env()
s3c = s3(env)
base = unique("es-spl")
table_name = base  # the main table
HOUR = "2026-11-25T09"
H = dt.datetime(2026, 11, 25, 9, tzinfo=dt.timezone.utc)
MANIFEST = "manifests/2026/11/25/09.json"
CLIENTS = [f"client-{i:03d}" for i in range(5)]  # client-004: no bucket
SPILLED, UNSPILLED = f"{base}-s", f"{base}-u"  # the two runs' bucket prefixes
LARGE_TABLE = f"{base}-large"  # client-000's csv object there is larger than one 5 MiB part
COMBOS = [("json", "none", table_name), ("ndjson", "gzip", table_name), ("csv", "zstd", table_name),
          ("csv", "none", LARGE_TABLE)]

# Under the sanitizer pass, LeakSanitizer's own tracer crashes (SIGSEGV while it stops the threads at
# exit) after a spilled run, failing the run with exit 1 although the export itself is complete and
# ASan found no error; leak checking is off for these runs only (ASan's checks stay on). Open in
# docs/RELIABILITY.md.
common = {"EAGLESENSE_SEGMENTS": "2", "ASAN_OPTIONS": "detect_leaks=0"}
seeded = {table_name: (600, 10), LARGE_TABLE: (60, 2)}  # good and bad events written by `eaglesense seed`
for table, (good, bad) in seeded.items():
    run_eaglesense(env, ["seed", "--events", str(good), "--clients", "5", "--hour", HOUR, "--create-table",
                         "--no-index", "--bad", str(bad)] +
                   (["--create-buckets", "--missing-bucket-clients", "1"] if table == table_name else []),
                   {**common, "DYNAMODB_TABLE_NAME": table, "S3_BUCKET_PREFIX": SPILLED})
for c in CLIENTS[:-1]:
    s3c.create_bucket(Bucket=f"{UNSPILLED}-{c}")

rng = random.Random(25)
items = []
for i in range(500):
    t = H + dt.timedelta(seconds=rng.randrange(3600), microseconds=rng.randrange(1_000_000))
    items.append({
        "eventId": {"S": f"typed-{i:04d}"}, "clientId": {"S": rng.choice(CLIENTS)},
        "time": {"S": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} if i % 7 else {"N": str(int(t.timestamp()))},
        "text": {"S": "é,\"q\"\r\n\x00 " + "".join(rng.choice("abcdefgh ,\"\n") for _ in range(4500))},
        "n": {"N": rng.choice(["1.50", "1E+125", "-1E-130", "12345678901234567890123456789012345678", "0"])},
        "b": {"B": bytes(rng.randrange(256) for _ in range(32))}, "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True}, "ss": {"SS": ["a", "b,c", f"s{i}"]}, "ns": {"NS": ["1.50", str(i)]},
        "bs": {"BS": [b"\x00", bytes([i % 256, 1])]},
        "l": {"L": [{"N": "1.0"}, {"S": "x"}, {"M": {"k": {"N": str(i)}}}]},
        "m": {"M": {"z": {"S": "last"}, "a": {"L": []}, "q\"k": {"N": "0.10"}}},
    })
    if i % 3 == 0:  # time ties with a seeded-looking instant: ordered by eventId, then bytes
        items[-1]["time"] = {"S": "2026-11-25T09:30:00Z"}
# client-000's csv object is larger than one 5 MiB part: the spilled run sends it as a multipart upload.
large = []
for i in range(56):
    t = H + dt.timedelta(minutes=i, seconds=7)
    large.append({"eventId": {"S": f"large-{i:02d}"}, "clientId": {"S": CLIENTS[0]},
                  "time": {"S": t.strftime("%Y-%m-%dT%H:%M:%SZ")}, "n": {"N": "1.50"},
                  "text": {"S": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ,") for _ in range(100_000))}})
batch_put_raw(env, table_name, items)
batch_put_raw(env, LARGE_TABLE, large)
written = {table_name: len(items), LARGE_TABLE: len(large)}


def spilled_line(stderr):
    """The export.spilled log record, if any (logs are one JSON object per line)."""
    for line in stderr.splitlines():
        record = json.loads(line)
        if "export.spilled" in record.values():
            return record
    return None


def all_keys(bucket):
    try:
        return sorted(o["Key"] for page in s3c.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                      for o in page.get("Contents", []))
    except s3c.exceptions.NoSuchBucket:
        return []


def snapshot(prefix, ops, client_key):
    """Every object of the run: client objects, the ops bucket's; the manifest and the rejected file
    without what names the prefix or says when (bucket names, generated_at, duration_ms, request ids,
    the run id, and settings_hash, which hashes the prefix and the ops bucket).
    Also the client objects' ETags (a multipart upload's ends in -<parts>)."""
    out, etags = {}, {}
    for c in CLIENTS:
        for key in all_keys(f"{prefix}-{c}"):
            if key == client_key:
                obj = s3c.get_object(Bucket=f"{prefix}-{c}", Key=key)
                out[f"{c}/{key}"] = obj["Body"].read()
                etags[c] = obj["ETag"]
    for key in all_keys(ops):
        body = s3c.get_object(Bucket=ops, Key=key)["Body"].read()
        if key == MANIFEST:
            manifest = json.loads(body)
            del manifest["generated_at"], manifest["duration_ms"], manifest["settings_hash"]
            manifest.pop("run_id", None)
            text = json.dumps(manifest, sort_keys=True).replace(prefix, "PREFIX").replace(ops, "OPS")
            body = re.sub(r"\(request id [^)]*\)", "(request id)", text).encode()
        elif key.startswith("rejected/"):  # a rejected client id's message names its would-be bucket
            body = body.replace(prefix.encode(), b"PREFIX")
        out[f"ops/{key}"] = body
    return out, etags


spill_dir = tempfile.mkdtemp(prefix="es-spill-test-")
atexit.register(shutil.rmtree, spill_dir, ignore_errors=True)  # also when a check fails
refused = run_eaglesense(env, ["run", "--hour", HOUR], {**common, "S3_BUCKET_PREFIX": SPILLED, "DYNAMODB_TABLE_NAME": table_name,
                                                        "EAGLESENSE_MEMORY_MB": "15"}, check_codes=(2,))
check("EAGLESENSE_MEMORY_MB" in refused.stderr, f"a budget below 16 MB must be refused by name: {refused.stderr}")

report = []
for fmt, compression, table in COMBOS:
    combo = f"{fmt}+{compression}"
    good, bad = seeded[table][0] + written[table], seeded[table][1]
    runs = {}
    for prefix, memory in ((SPILLED, "16"), (UNSPILLED, None)):
        ops = f"{prefix}-ops-{fmt}-{compression}"
        s3c.create_bucket(Bucket=ops)
        settings = {**common, "DYNAMODB_TABLE_NAME": table, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_OPS_BUCKET": ops, "OUTPUT_FORMAT": fmt,
                    "EAGLESENSE_COMPRESSION": compression, "EAGLESENSE_SPILL_DIR": spill_dir,
                    "EAGLESENSE_PART_SIZE_MB": "5"}
        if memory:
            settings["EAGLESENSE_MEMORY_MB"] = memory
        t0 = time.monotonic()
        proc = run_eaglesense(env, ["run", "--hour", HOUR], settings, check_codes=(3,))
        elapsed = time.monotonic() - t0
        summary = json.loads(proc.stdout)
        spilled = spilled_line(proc.stderr)
        if memory:
            check(spilled is not None and spilled["spills"] >= 3 and spilled["spilled_bytes"] > 0,
                  f"{combo}: the 16 MB run did not spill:\n{proc.stderr[-3000:]}")
            check(spilled["bytes_per_thread"] == 64 << 10, f"{combo}: {spilled}")
            # --source reads the hour again: once is enough (it is slow on moto).
            source = ["--source"] if fmt == "json" else []
            verdict = json.loads(run_eaglesense(env, ["verify", "--hour", HOUR, "--json"] + source, settings).stdout)
            check(verdict["ok"] and verdict["findings"] == [], f"{combo}: verify of the spilled hour: {verdict}")
        else:
            check(spilled is None, f"{combo}: the default budget spilled: {spilled}")
        check(os.listdir(spill_dir) == [], f"{combo}: files left in the spill dir: {os.listdir(spill_dir)}")
        check(summary["events_read"] == good + bad and summary["events_rejected"] == bad,
              f"{combo}: {summary}")
        # Not compared: when and how long, and the request count (a multipart upload takes more).
        requests = summary.pop("requests")
        for k in ("duration_ms", "events_per_second", "peak_rss_bytes", "hours"):
            summary.pop(k, None)
        runs[prefix] = (*snapshot(prefix, ops, object_key(HOUR, fmt, compression)), summary, spilled, elapsed,
                        requests)
    (a, etags_a, sum_a, spill_a, t_a, req_a), (b, etags_b, sum_b, _, t_b, req_b) = runs[SPILLED], runs[UNSPILLED]
    # client-000's csv object (> 5 MiB) goes up in parts when spilled (create, 2 parts, complete: three
    # requests more than one PUT), every other object as one PUT in both runs. moto's ETag says so too
    # (s3rver's does not).
    multipart = (fmt, compression) == ("csv", "none")
    check(sum_a["retries"] > 0 or sum_b["retries"] > 0 or req_a - req_b == (3 if multipart else 0),
          f"{combo}: {req_a} requests spilled, {req_b} not")
    if env.get("EAGLESENSE_BACKEND") == "moto":
        check(etags_a[CLIENTS[0]].strip('"').endswith("-2") == multipart and "-" not in etags_b[CLIENTS[0]],
              f"{combo}: client-000's ETags {etags_a[CLIENTS[0]]} (spilled) / {etags_b[CLIENTS[0]]}")
    key = object_key(HOUR, fmt, compression)
    want_keys = sorted([f"{c}/{key}" for c in CLIENTS[:-1]] +
                       [f"ops/{MANIFEST}", "ops/rejected/events-2026-11-25-09.json",
                        f"ops/undeliverable/{CLIENTS[-1]}/{key}"])
    check(sorted(a) == want_keys, f"{combo}: spilled run wrote {sorted(a)}")
    check(sorted(b) == want_keys, f"{combo}: unspilled run wrote {sorted(b)}")
    for name in want_keys:
        check(hashlib.sha256(a[name]).hexdigest() == hashlib.sha256(b[name]).hexdigest(),
              f"{combo}: {name} differs between the spilled and the unspilled run "
              f"({len(a[name])} vs {len(b[name])} bytes)")
    sum_a.pop("run_id", None)  # each run has its own
    sum_b.pop("run_id", None)
    check(sum_a == sum_b, f"{combo}: summaries differ:\n{sum_a}\n{sum_b}")
    # The objects hold every event once (so identical is not identically empty or truncated).
    total = 0
    for name in want_keys:
        if not name.startswith("ops/") or "/undeliverable/" in name:
            raw = decompress(a[name], compression).decode()
            total += len(list(csv.reader(io.StringIO(raw, newline="")))) - 1 if fmt == "csv" else len(json_events(raw, fmt))
    check(total == good, f"{combo}: {total} events in the objects, want {good}")
    report.append(f"{combo}: {spill_a['spills']} spills, {spill_a['spilled_bytes']} bytes spilled, "
                  f"spilled run {t_a:.1f}s, unspilled {t_b:.1f}s")

print(f"ok ({env.get('EAGLESENSE_BACKEND')}): {sum(g + b + written[t] for t, (g, b) in seeded.items())} items, "
      f"objects identical with and without "
      f"spilling in {time.monotonic() - started:.1f}s; " + "; ".join(report))
