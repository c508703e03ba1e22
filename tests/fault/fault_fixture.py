"""ctest fixture of the fault suite (label `fault`), one per backend.

    fault_fixture.py start --build-dir B --binary B/eaglesense [--backend local|moto]
        Starts the backend (local: dynalite + s3rver; moto: moto_server, which checks SigV4
        signatures) in B/local-aws/fault-<backend>, seeds the hour once for the session (3,000 events
        for 6 clients plus 20 that must be rejected; and 14,000 events of one client, a 2-part
        multipart object; on moto, whose Scan is slow, 300 events and 1,400 large items: DATASETS),
        runs the fault-free reference exports straight to the servers, checks them
        independently, saves them under B/local-aws/fault-<backend>/reference* and writes
        B/local-aws/fault-<backend>/session.json. That backend's results of an earlier session
        (B/fault-results/<backend>-*.json) are removed.
    fault_fixture.py stop --build-dir B [--backend local|moto]
        Stops any proxy a driver of that backend left behind (PID files under the state dir, command
        line checked) and the backend.
"""
import argparse
import hashlib
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fault_harness as fh  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCAL_AWS = os.path.join(REPO, "scripts", "local-aws.sh")
TABLE = "fault-events"
CLIENTS, BAD, SEED = 6, 20, 20261129
MULTIPART_TABLE = "fault-multipart"
MULTIPART_ENV = {"EAGLESENSE_MULTIPART_THRESHOLD_MB": "5", "EAGLESENSE_PART_SIZE_MB": "5"}
# The datasets of each backend. moto's DynamoDB costs about 4 ms per item scanned (it deep-copies
# every item; a Scan of the 3,020-item table takes 10-20 s), so its session holds fewer items: the
# main table 300 events (objects of about 20 KB), and the multipart table 1,400 large items written
# with boto3 (4,000-character "data" attribute), which make the same kind of 5.6 MB, 2-part object
# in a run of about 2 s instead of 35-70 s.
DATASETS = {
    "local": {"main_events": 3000, "multipart": ("seed", 14000, None)},
    "moto": {"main_events": 300, "multipart": ("large-items", 1400, 4000)},
}


def clear_results(build_dir, backend):
    """Removes this backend's results of an earlier session; the other backend's stay (its fixture
    may have run already in this ctest run)."""
    d = fh.results_dir(build_dir)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith(fh.results_name(backend, "")) and name.endswith(".json"):
            os.remove(os.path.join(d, name))
    for stale in ("crash.json",) + tuple(n for n in os.listdir(d) if n.startswith("faults-")):
        # results files of the suite before it had backends
        if os.path.exists(os.path.join(d, stale)):
            os.remove(os.path.join(d, stale))


def start(args):
    state = fh.state_dir(args.build_dir, args.backend)
    subprocess.run([LOCAL_AWS, "start", "--backend", args.backend, "--state-dir", state], check=True)
    env_file = os.path.join(state, "env")
    env = fh.read_env_file(env_file)
    clear_results(args.build_dir, args.backend)

    session = {"build_dir": args.build_dir, "backend": args.backend, "state_dir": state, "env_file": env_file,
               "table": TABLE, "binary": os.path.abspath(args.binary), "hour": fh.HOUR}
    direct = {"AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"],
              "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"]}
    sizes = DATASETS[args.backend]
    # The main dataset: 3,000 events (moto: 300) for 6 clients and 20 to reject; objects of about
    # 200 KB (moto: 20 KB).
    make_dataset(args, session, env, direct, TABLE, ("seed", sizes["main_events"], None), CLIENTS, BAD, SEED,
                 "reference", {})
    session["reference_dir"] = os.path.join(state, "reference")
    # The multipart dataset: one client's 5.6 MB object, sent in two 5 MiB parts (local: 14,000
    # events; moto: 1,400 large items).
    make_dataset(args, session, env, direct, MULTIPART_TABLE, sizes["multipart"], 1, 0, SEED + 1,
                 "reference-multipart", MULTIPART_ENV)
    session["multipart"] = {"table": MULTIPART_TABLE, "reference_dir": os.path.join(state, "reference-multipart"),
                            "env": dict(MULTIPART_ENV, DYNAMODB_TABLE_NAME=MULTIPART_TABLE)}
    with open(fh.session_path(args.build_dir, args.backend), "w") as f:
        json.dump(session, f, indent=1)


def make_dataset(args, session, env, direct, table, how, clients, bad, seed, name, extra_env):
    """Seeds a table (same seed, same items: idempotent if the backend was already running), runs the
    fault-free reference export straight to the servers, checks it, saves it under <state>/<name>.
    `how` is ("seed", events, None): `eaglesense seed`; or ("large-items", events, size): boto3 writes
    `events` items of one client with a `size`-character attribute (only with clients=1, bad=0)."""
    kind, events, size = how
    if kind == "seed":
        seed_env = fh.exporter_env(dict(session, table=table), direct, "fault-seed")
        seeded = subprocess.run([args.binary, "seed", "--events", str(events), "--clients", str(clients),
                                 "--bad", str(bad), "--hour", fh.HOUR, "--seed", str(seed), "--create-table"],
                                env=seed_env, capture_output=True, text=True, timeout=300)
        if seeded.returncode != 0:
            sys.exit(f"seed failed ({seeded.returncode}):\n{seeded.stdout}\n{seeded.stderr[-3000:]}")
        fh.log(f"seeded: {seeded.stdout.strip()}")
    else:
        fh.check(clients == 1 and bad == 0, "large items: one client, nothing to reject")
        seed_large_items(env, table, events, size, seed)
        fh.log(f"seeded {table}: {events} items of client-000 with {size} characters of data each")
    names = [f"client-{i:03d}" for i in range(clients)]
    s3 = fh.s3_client(env)
    prefix = fh.new_prefix(name)
    fh.create_buckets(s3, prefix, names)
    run = fh.run_exporter(dict(session, table=table), direct, prefix, dict(extra_env, LOG_LEVEL="debug"))
    if run.rc != 0 or run.summary is None:
        sys.exit(f"reference run for {table} failed: {run.describe()}")
    snap = fh.snapshot(s3, prefix, names)
    verify_reference(env, table, snap, run.summary, events, bad, names)
    if extra_env.get("EAGLESENSE_MULTIPART_THRESHOLD_MB"):
        parts = run.stderr.count('"operation":"S3.UploadPart"')
        fh.check(parts == 2 and '"operation":"S3.CompleteMultipartUpload"' in run.stderr,
                 f"the multipart reference was not sent as a 2-part multipart upload ({parts} parts)")
    fh.Reference.save(os.path.join(session["state_dir"], name), run.summary, snap["ops"][fh.MANIFEST_KEY],
                      snap["ops"].get(fh.REJECTED_KEY), {c: snap[c][fh.OBJECT_KEY] for c in names}, prefix)
    fh.delete_buckets(s3, prefix, names)
    fh.log(f"{name}: {fh.summary_line(run.summary)} in {run.seconds:.2f}s")


def seed_large_items(env, table, events, size, seed):
    """`events` items of client-000 in the hour, each with a `size`-character "data" string: few
    items for many bytes (the multipart dataset on moto, whose cost is per item)."""
    ddb = fh.dynamodb_client(env)
    if table not in ddb.list_tables()["TableNames"]:
        ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    rng = random.Random(seed)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    puts = []
    for i in range(events):
        data = " ".join(rng.choice(words) for _ in range(size // 5))[:size].ljust(size, ".")
        start_us = i * 3600 * 1000000 // events + rng.randrange(3600 * 1000000 // events)
        when = f"{fh.HOUR}:{start_us // 60000000:02d}:{start_us // 1000000 % 60:02d}.{start_us % 1000000:06d}+00:00"
        puts.append({"PutRequest": {"Item": {
            "eventId": {"S": f"{rng.getrandbits(64):016x}-{i:05d}"}, "clientId": {"S": "client-000"},
            "time": {"S": when}, "seq": {"N": str(i)}, "data": {"S": data}}}})
    for first in range(0, len(puts), 25):
        pending = {table: puts[first:first + 25]}
        for _ in range(10):
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        fh.check(not pending, f"{table}: items left unprocessed after 10 BatchWriteItem calls")


def verify_reference(env, table, snap, summary, events, bad, clients):
    """The reference itself, checked independently of the exporter: boto3 counts the table's items,
    every seeded event appears exactly once across the client objects, in (time, eventId) order, and
    the manifest's checksums are those of the objects."""
    ddb = fh.dynamodb_client(env)
    items = 0
    kwargs = {"TableName": table, "Select": "COUNT"}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    fh.check(items == events + bad, f"table holds {items} items, expected {events + bad}")
    fh.check(summary["events_read"] == items, f"reference read {summary['events_read']} of {items} items")
    fh.check(summary["events_delivered"] == events and summary["events_rejected"] == bad,
             f"reference: {fh.summary_line(summary)}")
    seen = set()
    manifest = json.loads(snap["ops"][fh.MANIFEST_KEY])
    by_client = {e["client"]: e for e in manifest["objects"]}
    for c in clients:
        body = snap[c][fh.OBJECT_KEY]
        decoded = json.loads(body)
        ids = [e["eventId"] for e in decoded]
        fh.check(all(e["clientId"] == c for e in decoded), f"{c}: foreign events")
        order = [(e["time"], e["eventId"]) for e in decoded]
        fh.check(order == sorted(order), f"{c}: events not in (time, eventId) order")
        fh.check(not (seen & set(ids)) and len(set(ids)) == len(ids), f"{c}: duplicated events")
        seen |= set(ids)
        fh.check(by_client[c]["sha256"] == hashlib.sha256(body).hexdigest(), f"{c}: manifest sha256")
        fh.check(by_client[c]["events"] == len(decoded), f"{c}: manifest count")
    fh.check(len(seen) == events, f"{len(seen)} distinct events delivered, expected {events}")
    rejected = json.loads(snap["ops"].get(fh.REJECTED_KEY, b"[]"))
    fh.check(len(rejected) == bad, f"{len(rejected)} rejected, expected {bad}")


def stop(args):
    state = fh.state_dir(args.build_dir, args.backend)
    proxies = os.path.join(state, "proxies")
    if os.path.isdir(proxies):
        for root, _dirs, files in os.walk(proxies):
            for name in files:
                if name.endswith(".pid"):
                    try:
                        with open(os.path.join(root, name)) as f:
                            fh.stop_process_group(int(f.read().strip()), "fault_addon.py")
                    except (OSError, ValueError):
                        pass
    subprocess.run([LOCAL_AWS, "stop", "--backend", args.backend, "--state-dir", state], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--binary")
    parser.add_argument("--backend", choices=fh.BACKENDS, default="local")
    args = parser.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    if args.command == "start":
        if not args.binary:
            parser.error("start needs --binary")
        start(args)
    else:
        stop(args)


if __name__ == "__main__":
    main()
