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


def state_dir(build_dir):
    return os.path.join(build_dir, "local-aws", "fault")


def start(args):
    state = state_dir(args.build_dir)
    subprocess.run([LOCAL_AWS, "start", "--backend", "local", "--state-dir", state], check=True)
    env_file = os.path.join(state, "env")
    env = fh.read_env_file(env_file)
    shutil.rmtree(fh.results_dir(args.build_dir), ignore_errors=True)
    os.makedirs(fh.results_dir(args.build_dir))

    # Seed once per session (same seed, same items: idempotent if the backend was already running).
    seed_env = fh.exporter_env({"env_file": env_file, "table": TABLE},
                               {"AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"],
                                "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"]}, "fault-seed")
    seeded = subprocess.run([args.binary, "seed", "--events", str(EVENTS), "--clients", str(CLIENTS),
                             "--bad", str(BAD), "--hour", fh.HOUR, "--seed", str(SEED), "--create-table"],
                            env=seed_env, capture_output=True, text=True, timeout=300)
    if seeded.returncode != 0:
        sys.exit(f"seed failed ({seeded.returncode}):\n{seeded.stdout}\n{seeded.stderr[-3000:]}")
    fh.log(f"seeded: {seeded.stdout.strip()}")

    session = {"build_dir": args.build_dir, "state_dir": state, "env_file": env_file, "table": TABLE,
               "binary": os.path.abspath(args.binary), "hour": fh.HOUR}
    # The reference: a fault-free run straight to the servers.
    s3 = fh.s3_client(env)
    prefix = fh.new_prefix("reference")
    fh.create_buckets(s3, prefix)
    run = fh.run_exporter(session, {"AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"],
                                    "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"]}, prefix)
    if run.rc != 0 or run.summary is None:
        sys.exit(f"reference run failed: {run.describe()}")
    snap = fh.snapshot(s3, prefix)
    verify_reference(env, snap, run.summary)
    fh.Reference.save(os.path.join(state, "reference"), run.summary, snap["ops"][fh.MANIFEST_KEY],
                      snap["ops"][fh.REJECTED_KEY], {c: snap[c][fh.OBJECT_KEY] for c in fh.CLIENTS},
                      prefix)
    session["reference_dir"] = os.path.join(state, "reference")
    session["reference_seconds"] = round(run.seconds, 3)
    with open(fh.session_path(args.build_dir), "w") as f:
        json.dump(session, f, indent=1)
    fh.delete_buckets(s3, prefix)
    fh.log(f"reference: {fh.summary_line(run.summary)} in {run.seconds:.2f}s")


def verify_reference(env, snap, summary):
    """The reference itself, checked independently of the exporter: boto3 counts the table's items,
    every seeded event appears exactly once across the client objects, in (time, eventId) order, and
    the manifest's checksums are those of the objects."""
    ddb = fh.dynamodb_client(env)
    items = 0
    kwargs = {"TableName": TABLE, "Select": "COUNT"}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    fh.check(items == EVENTS + BAD, f"table holds {items} items, expected {EVENTS + BAD}")
    fh.check(summary["events_read"] == items, f"reference read {summary['events_read']} of {items} items")
    fh.check(summary["events_delivered"] == EVENTS and summary["events_rejected"] == BAD,
             f"reference: {fh.summary_line(summary)}")
    seen = set()
    manifest = json.loads(snap["ops"][fh.MANIFEST_KEY])
    by_client = {e["client"]: e for e in manifest["objects"]}
    for c in fh.CLIENTS:
        body = snap[c][fh.OBJECT_KEY]
        events = json.loads(body)
        ids = [e["eventId"] for e in events]
        fh.check(all(e["clientId"] == c for e in events), f"{c}: foreign events")
        order = [(e["time"], e["eventId"]) for e in events]
        fh.check(order == sorted(order), f"{c}: events not in (time, eventId) order")
        fh.check(not (seen & set(ids)) and len(set(ids)) == len(ids), f"{c}: duplicated events")
        seen |= set(ids)
        fh.check(by_client[c]["sha256"] == hashlib.sha256(body).hexdigest(), f"{c}: manifest sha256")
        fh.check(by_client[c]["events"] == len(events), f"{c}: manifest count")
    fh.check(len(seen) == EVENTS, f"{len(seen)} distinct events delivered, expected {EVENTS}")
    rejected = json.loads(snap["ops"][fh.REJECTED_KEY])
    fh.check(len(rejected) == BAD, f"{len(rejected)} rejected, expected {BAD}")


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
