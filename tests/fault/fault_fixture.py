"""ctest fixture of the fault suite (label `fault`).

    fault_fixture.py start --build-dir B --binary B/eaglesense
        Starts the local backend (dynalite + s3rver) in B/local-aws/fault, seeds the hour once for the
        session (3,000 events for 6 clients plus 20 that must be rejected), runs the fault-free
        reference export straight to the servers, checks it independently, saves it under
        B/local-aws/fault/reference and writes B/local-aws/fault/session.json. Results of an earlier
        session (B/fault-results) are removed.
    fault_fixture.py stop --build-dir B
        Stops any proxy a driver left behind (PID files under the state dir, command line checked)
        and the backend.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fault_harness as fh  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCAL_AWS = os.path.join(REPO, "scripts", "local-aws.sh")
TABLE = "fault-events"
EVENTS, CLIENTS, BAD, SEED = 3000, 6, 20, 20261129
MULTIPART_TABLE, MULTIPART_EVENTS = "fault-multipart", 14000
MULTIPART_ENV = {"EAGLESENSE_MULTIPART_THRESHOLD_MB": "5", "EAGLESENSE_PART_SIZE_MB": "5"}


def state_dir(build_dir):
    return os.path.join(build_dir, "local-aws", "fault")


def start(args):
    state = state_dir(args.build_dir)
    subprocess.run([LOCAL_AWS, "start", "--backend", "local", "--state-dir", state], check=True)
    env_file = os.path.join(state, "env")
    env = fh.read_env_file(env_file)
    shutil.rmtree(fh.results_dir(args.build_dir), ignore_errors=True)
    os.makedirs(fh.results_dir(args.build_dir))

    session = {"build_dir": args.build_dir, "state_dir": state, "env_file": env_file, "table": TABLE,
               "binary": os.path.abspath(args.binary), "hour": fh.HOUR}
    direct = {"AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"],
              "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"]}
    # The main dataset: 3,000 events for 6 clients and 20 to reject; objects of about 200 KB.
    make_dataset(args, session, env, direct, TABLE, EVENTS, CLIENTS, BAD, SEED, "reference", {})
    session["reference_dir"] = os.path.join(state, "reference")
    # The multipart dataset: 14,000 events of one client, a 5.6 MB object sent in two 5 MiB parts.
    make_dataset(args, session, env, direct, MULTIPART_TABLE, MULTIPART_EVENTS, 1, 0, SEED + 1,
                 "reference-multipart", MULTIPART_ENV)
    session["multipart"] = {"table": MULTIPART_TABLE, "reference_dir": os.path.join(state, "reference-multipart"),
                            "env": dict(MULTIPART_ENV, DYNAMODB_TABLE_NAME=MULTIPART_TABLE)}
    with open(fh.session_path(args.build_dir), "w") as f:
        json.dump(session, f, indent=1)


def make_dataset(args, session, env, direct, table, events, clients, bad, seed, name, extra_env):
    """Seeds a table (same seed, same items: idempotent if the backend was already running), runs the
    fault-free reference export straight to the servers, checks it, saves it under <state>/<name>."""
    seed_env = fh.exporter_env(dict(session, table=table), direct, "fault-seed")
    seeded = subprocess.run([args.binary, "seed", "--events", str(events), "--clients", str(clients),
                             "--bad", str(bad), "--hour", fh.HOUR, "--seed", str(seed), "--create-table"],
                            env=seed_env, capture_output=True, text=True, timeout=300)
    if seeded.returncode != 0:
        sys.exit(f"seed failed ({seeded.returncode}):\n{seeded.stdout}\n{seeded.stderr[-3000:]}")
    fh.log(f"seeded: {seeded.stdout.strip()}")
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
    state = state_dir(args.build_dir)
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
    subprocess.run([LOCAL_AWS, "stop", "--backend", "local", "--state-dir", state], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--binary")
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
