"""The template's own IAM policies, enforced by moto: the real eaglesense binary runs with the keys of an
IAM user whose policy is the role policy rendered from cloudformation/template.yaml for this test's
account, region, bucket prefix and table (cfn_template.role_policies: the YAML with its !Sub, !GetAtt,
!Ref and !If resolved, never a hand-written copy), and no AccessDenied may appear in any exit code, log
line or summary.

The moto fixture's server already enforces IAM (scripts/local-aws.sh starts it with
INITIAL_NO_AUTH_ACTION_COUNT): every request is signed and judged against its caller's policies. The
fixture's own key (allowed everything) seeds the data and creates one user per role:

  exporter       ExporterRole with ScaleOutWorkers=1 (the function alone)
  worker         ExporterRole with ScaleOutWorkers=3 (the same function running the scale-out stages)
  state-machine  StateMachineRole (its one S3 call: the Merge map's ItemReader)

Cases: a normal hour (scan and query mode); a multipart upload whose CompleteMultipartUpload answer is
lost (fault proxy: reset, then NoSuchUpload) and healed by HeadObject; a multipart upload whose parts
fail, aborted (no upload left behind); an undeliverable client (bucket missing) whose copy goes to the
ops bucket; `eaglesense verify` (with --source); each scale-out stage command (plan, work, list-clients,
merge, finish) as the worker, the client list read as the state machine, staging/ deleted at finish.
Redelivery and hour leases are TODO cases, reported as skipped until those features exist.

What moto judges (moto 5.2, moto/iam/access_control.py, read here): S3 requests against the statements'
bucket and object ARNs; every DynamoDB call with the resource "*"; conditions only when the request
supplies their key, which an S3 or DynamoDB request never does (s3:ResourceAccount and s3:prefix are
ignored). So the S3 statements are used exactly as rendered, but two are widened here, in the test
only (see moto_view): DynamoDB statements' Resource becomes "*", and s3:DeleteObject also names the
ops bucket, because moto checks a DeleteObjects request against the bucket ARN where AWS checks each
key (a single DeleteObject, judged per key, probes the staging statement instead). The conditions and
the DynamoDB ARNs are checked statically by tests/cloudformation/policy_test.py.

Options (to show that the test can fail): --template PATH renders another template (e.g. an older
one); --drop SID removes a statement from the rendered policies, --drop SID:ACTION one of its actions
(repeatable; e.g. --drop ClientObjects:s3:GetObject).

Run by Debian's /usr/bin/python3 (boto3) through ctest (moto backend only: the local servers have no
IAM). Uses tests/fault's fault proxy (Debian's mitmdump).
"""
import argparse
import copy
import datetime as dt
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "cloudformation"))
sys.path.insert(0, os.path.join(HERE, "..", "fault", "lib"))
import cfn_template as cfn  # noqa: E402
import fault_harness as fh  # noqa: E402
from es_harness import batch_put_raw, binary_path, check, load_env, run_eaglesense, s3, session, unique  # noqa: E402

HOUR_NORMAL = "2026-10-01T01"
HOUR_MULTIPART = "2026-10-01T02"
HOUR_UNDELIVERABLE = "2026-10-01T03"
HOUR_STAGES = "2026-10-01T04"
STACK = "iam-test"
BIG_ITEMS, BIG_ITEM_BYTES = 60, 100_000  # client-000's 6 MB object: two 5 MiB parts
MULTIPART_ENV = {"EAGLESENSE_MULTIPART_THRESHOLD_MB": "5", "EAGLESENSE_PART_SIZE_MB": "5"}
ACCESS_DENIED = re.compile(r"AccessDenied|Access Denied")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--template", default=cfn.TEMPLATE, help="the template whose roles are tested")
parser.add_argument("--drop", action="append", default=[], metavar="SID[:ACTION]",
                    help="remove a statement, or one action of it, from the rendered policies (shows that "
                         "the test can fail)")
args = parser.parse_args()

env = load_env()
if env.get("EAGLESENSE_BACKEND") != "moto":
    print("skipped: IAM is enforced only by moto (dynalite and s3rver ignore policies)")
    sys.exit(77)

admin = session(env)
endpoint = env["AWS_ENDPOINT_URL_S3"]
region = env.get("AWS_REGION", "us-east-1")
account = admin.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
iam = admin.client("iam", endpoint_url=endpoint)
s3_admin = s3(env)
prefix = unique("iam")
table = unique("iam-events")
ops_bucket = f"{prefix}-ops"
proxy_dir = os.path.join(os.path.dirname(binary_path(env)), "iam-test", prefix)  # the fault proxies' logs
failures = []
skipped = []


def log(message):
    print(message, flush=True)


# --- the policies, from the template ------------------------------------------------------------------

template = cfn.load(args.template)


def stack_params(workers):
    return cfn.parameter_values(template, {"ArtifactBucket": "artifacts", "ArtifactKey": "k.zip",
                                           "BucketPrefix": prefix, "TableName": table, "ScaleOutWorkers": workers})


def rendered(role, workers):
    """The role's inline policy documents for a stack of this test's account, region, prefix and table."""
    docs = cfn.role_policies(template, stack_params(workers), role, stack=STACK, region=region, account=account)
    for drop in args.drop:
        sid, _, action = drop.partition(":")
        for doc in docs.values():
            for st in doc["Statement"]:
                if st.get("Sid") == sid and action:
                    st["Action"] = [a for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
                                    if a != action]
            doc["Statement"] = [st for st in doc["Statement"] if st.get("Sid") != sid or (action and st["Action"])]
    return docs


def moto_view(doc):
    """The policy as moto can judge it: the test-only widenings the module docstring explains. Every
    other statement (all of S3's, conditions included) is the template's, unchanged."""
    doc = copy.deepcopy(doc)
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if all(a.startswith("dynamodb:") for a in actions):
            # moto evaluates every DynamoDB call against the resource "*": a table or index ARN never
            # matches it there (AWS matches them; policy_test.py checks the ARNs).
            st["Resource"] = "*"
        if "s3:DeleteObject" in actions and st["Effect"] == "Allow":
            # moto authorizes DeleteObjects (POST /bucket?delete) as s3:DeleteObject on the bucket ARN, AWS
            # on each key: the bucket is added so that moto reaches the per-key deletes at all.
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            st["Resource"] = resources + [f"arn:aws:s3:::{ops_bucket}"]
    return doc


def make_user(name, docs):
    """An IAM user with exactly these policies (moto's view of them) and its access key."""
    user = f"{prefix}-{name}"
    iam.create_user(UserName=user)
    for policy_name, doc in docs.items():
        iam.put_user_policy(UserName=user, PolicyName=policy_name, PolicyDocument=json.dumps(moto_view(doc)))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {**env, "AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def function_environment(workers):
    """The exporter function's environment as the template sets it for this stack."""
    params = stack_params(workers)
    fn = cfn.active_resources(template, params)["ExporterFunction"]["Properties"]["Environment"]["Variables"]
    names = cfn.stack_names(template, params, stack=STACK, region=region, account=account)
    return {k: str(v) for k, v in cfn.substitute(fn, names).items()}


# --- running the exporter as a user ---------------------------------------------------------------------

def run_as(user_env, cmd, settings, codes=(0,), extra=None):
    """eaglesense `cmd` with the user's keys and the function's environment; any AccessDenied in its output
    is a failure whatever the exit code."""
    proc = run_eaglesense(user_env, cmd, dict(settings, **(extra or {})), check_codes=codes)
    denied = [line for line in (proc.stdout + proc.stderr).splitlines() if ACCESS_DENIED.search(line)]
    check(not denied, f"eaglesense {' '.join(cmd)}: AccessDenied under the template's policy:\n  "
                      + "\n  ".join(denied[:5]))
    return proc


def summary_of(proc):
    return json.loads(proc.stdout)


def brief(s):
    """A summary's counts, for messages."""
    return {k: s.get(k) for k in ("events_read", "events_delivered", "events_rejected", "events_undeliverable")}


def case(name):
    """Runs a case function, records its failure and goes on with the next case."""
    def wrap(fn):
        try:
            fn()
            log(f"ok: {name}")
        except Exception as err:  # noqa: BLE001 - a crash of one case is its failure; the others still run
            failures.append(f"{name}: {type(err).__name__}: {err}")
            log(f"FAIL: {name}: {type(err).__name__}: {err}")
        return fn
    return wrap


def skip(name, reason):
    skipped.append(f"{name}: {reason}")
    log(f"SKIP (TODO): {name}: {reason}")


def object_exists(bucket, key):
    try:
        s3_admin.head_object(Bucket=bucket, Key=key)
        return True
    except s3_admin.exceptions.ClientError:
        return False


def manifest_key(hour):
    day, hh = hour.split("T")
    return f"manifests/{day.replace('-', '/')}/{hh}.json"


def object_key(hour):
    return f"events-{hour.replace('T', '-')}.json"


# --- data (the fixture's key: allowed everything) -------------------------------------------------------

def seed():
    admin_settings = {"DYNAMODB_TABLE_NAME": table, "S3_BUCKET_PREFIX": prefix}
    run_eaglesense(env, ["seed", "--events", "200", "--clients", "3", "--hour", HOUR_NORMAL, "--bad", "5",
                         "--create-table", "--create-buckets"], admin_settings)
    run_eaglesense(env, ["seed", "--events", "60", "--clients", "4", "--hour", HOUR_UNDELIVERABLE,
                         "--create-buckets", "--missing-bucket-clients", "1", "--seed", "2"], admin_settings)
    run_eaglesense(env, ["seed", "--events", "150", "--clients", "3", "--hour", HOUR_STAGES, "--bad", "3",
                         "--seed", "3"], admin_settings)
    # client-000's large hour: few items of many bytes (moto's Scan costs per item).
    filler = ("abcdefghij" * (BIG_ITEM_BYTES // 10 + 1))[:BIG_ITEM_BYTES]
    items = [{"eventId": {"S": f"big-{i:04d}"}, "clientId": {"S": "client-000"},
              "time": {"S": f"{HOUR_MULTIPART}:{i % 60:02d}:{i % 59:02d}.000000+00:00"},
              "seq": {"N": str(i)}, "data": {"S": filler}} for i in range(BIG_ITEMS)]
    batch_put_raw(env, table, items)


seed()
exporter = make_user("exporter", rendered("ExporterRole", 1))
worker = make_user("worker", rendered("ExporterRole", 3))
state_machine = make_user("state-machine", rendered("StateMachineRole", 3))
single_env = function_environment(1)
stage_env = function_environment(3)
log(f"users {prefix}-exporter, -worker, -state-machine with the template's policies "
    f"(account {account}, region {region}, prefix {prefix}, table {table})"
    + (f"; statements dropped: {args.drop}" if args.drop else ""))


@case("enforcement is on: the exporter's key may not create a bucket nor write the ops bucket's root")
def enforcement():
    user_s3 = s3(exporter)
    for what, call in (("CreateBucket", lambda: user_s3.create_bucket(Bucket=f"{prefix}-extra")),
                       ("PutObject at the ops bucket's root",
                        lambda: user_s3.put_object(Bucket=ops_bucket, Key=object_key(HOUR_NORMAL), Body=b"[]\n"))):
        try:
            call()
        except user_s3.exceptions.ClientError as err:
            check(err.response["Error"]["Code"] == "AccessDenied", f"{what}: {err}")
            continue
        raise AssertionError(f"{what} was allowed (by the policy, or moto is not enforcing it)")


@case("a normal hour (scan, then query mode): delivered, rejected file, manifest")
def normal_hour():
    for mode in ("scan", "query"):
        s = summary_of(run_as(exporter, ["run", "--hour", HOUR_NORMAL], single_env,
                              extra={"EAGLESENSE_READ_MODE": mode}))
        # Events whose time fits no hour are rejected by every hour's scan: the other seeds' bad ones too.
        check(s["events_delivered"] == 200 and s["events_rejected"] >= 5 and s["events_undeliverable"] == 0,
              f"{mode}: summary {brief(s)}")
    for c in range(3):
        check(object_exists(f"{prefix}-client-{c:03d}", object_key(HOUR_NORMAL)), f"client-{c:03d}'s object")
    check(object_exists(ops_bucket, manifest_key(HOUR_NORMAL)), "the manifest")


@case("multipart upload whose CompleteMultipartUpload answer is lost: healed by HeadObject")
def lost_complete():
    complete = rf"^/{prefix}-client-000/[^?]*\?uploadId="
    with fh.Proxies({"state_dir": proxy_dir, "env_file": env["_env_file"]},
                    "lost-complete") as proxies:
        proxies.write_plan([{"name": "complete-reset", "service": "s3", "method": "POST", "path": complete,
                             "fault": "reset", "times": 1},
                            {"name": "nosuchupload-after", "service": "s3", "method": "POST", "path": complete,
                             "fault": "nosuchupload", "times": None}],
                           "lost-complete", shims=["composite-checksum-suffix"])
        proc = run_as(exporter, ["run", "--hour", HOUR_MULTIPART], single_env,
                      extra=dict(MULTIPART_ENV, **proxies.endpoints()))
        injected = [r for r in proxies.requests_since({})["s3"] if r.get("rule") == "complete-reset"]
    check(injected, "the proxy lost no Complete answer: the case did not happen")
    lost = [json.loads(line) for line in proc.stderr.splitlines() if '"s3.complete_answer_lost"' in line]
    check(lost and all(r.get("resolution") == "object verified" for r in lost),
          f"no s3.complete_answer_lost with resolution 'object verified':\n{proc.stderr[-3000:]}")
    s = summary_of(proc)
    check(s["events_delivered"] == BIG_ITEMS and s["events_undeliverable"] == 0, f"summary {brief(s)}")
    head = s3_admin.head_object(Bucket=f"{prefix}-client-000", Key=object_key(HOUR_MULTIPART))
    check(head["ETag"].endswith('-2"'), f"not a 2-part multipart object: ETag {head['ETag']}")


@case("verify, as the exporter (--source: the hour recounted in DynamoDB)")
def verify():
    for hour in (HOUR_NORMAL, HOUR_MULTIPART):
        run_as(exporter, ["verify", "--hour", hour, "--source"], single_env)


@case("an undeliverable client (its bucket is missing): the copy under undeliverable/, then verify")
def undeliverable():
    s = summary_of(run_as(exporter, ["run", "--hour", HOUR_UNDELIVERABLE], single_env, codes=(3,)))
    check(s["events_undeliverable"] > 0 and s["events_delivered"] + s["events_undeliverable"] == 60,
          f"summary {brief(s)}")
    check(object_exists(ops_bucket, f"undeliverable/client-003/{object_key(HOUR_UNDELIVERABLE)}"),
          "the undeliverable copy of client-003")
    check(object_exists(ops_bucket, manifest_key(HOUR_UNDELIVERABLE)), "the manifest")
    run_as(exporter, ["verify", "--hour", HOUR_UNDELIVERABLE], single_env)


@case("a multipart upload whose parts fail: aborted, nothing left behind, the copy set aside")
def abort():
    parts = rf"^/{prefix}-client-000/[^?]*\?.*partNumber="
    with fh.Proxies({"state_dir": proxy_dir, "env_file": env["_env_file"]},
                    "abort") as proxies:
        proxies.write_plan([{"name": "parts-fail", "service": "s3", "method": "PUT", "path": parts,
                             "fault": "http500", "times": None}], "abort")
        proc = run_as(exporter, ["run", "--hour", HOUR_MULTIPART], single_env, codes=(3,),
                      extra=dict(MULTIPART_ENV, AWS_MAX_ATTEMPTS="2", **proxies.endpoints()))
        aborts = [r for r in proxies.requests_since({})["s3"]
                  if r.get("method") == "DELETE" and f"/{prefix}-client-000/" in r.get("path", "")]
    check(aborts, "no AbortMultipartUpload was sent")
    check('"s3.multipart_abort_failed"' not in proc.stderr, f"the abort failed:\n{proc.stderr[-3000:]}")
    left = s3_admin.list_multipart_uploads(Bucket=f"{prefix}-client-000").get("Uploads", [])
    check(not left, f"multipart uploads left in the client bucket: {left}")
    check(object_exists(ops_bucket, f"undeliverable/client-000/{object_key(HOUR_MULTIPART)}"),
          "the undeliverable copy of client-000")


@case("scale-out stages as the worker, the client list read as the state machine")
def stages():
    run_as(worker, ["plan", "--hour", HOUR_STAGES, "--workers", "2", "--skip-complete"], stage_env)
    for unit in (0, 1):
        run_as(worker, ["work", "--hour", HOUR_STAGES, "--unit", str(unit)], stage_env)
    listed = json.loads(run_as(worker, ["merge", "--hour", HOUR_STAGES, "--list-clients"], stage_env).stdout)
    # The Merge map's ItemReader: the client list the stage wrote (its Lambda answer names this key).
    sm_s3 = s3(state_machine)
    items = json.loads(sm_s3.get_object(Bucket=ops_bucket, Key=f"staging/{HOUR_STAGES}/_clients.json")["Body"].read())
    check(items == listed and sorted(i["client"] for i in items) == [f"client-{c:03d}" for c in range(3)],
          f"merge items {items}, list-clients printed {listed}")
    try:
        sm_s3.get_object(Bucket=ops_bucket, Key=f"staging/{HOUR_STAGES}/plan.json")
        raise AssertionError("the state machine's role may read staging/ beyond the client list")
    except sm_s3.exceptions.ClientError as err:
        check(err.response["Error"]["Code"] == "AccessDenied", f"the state machine reading the plan: {err}")
    for item in items:
        run_as(worker, ["merge", "--hour", HOUR_STAGES, "--client", item["client"]], stage_env)
    # moto judges finish's DeleteObjects on the bucket only (moto_view); a single DeleteObject is judged
    # per key, as AWS judges each key of a DeleteObjects: allowed under staging/, refused on a manifest.
    worker_s3 = s3(worker)
    probe = f"staging/{HOUR_STAGES}/iam-probe"
    s3_admin.put_object(Bucket=ops_bucket, Key=probe, Body=b"probe")
    worker_s3.delete_object(Bucket=ops_bucket, Key=probe)
    try:
        worker_s3.delete_object(Bucket=ops_bucket, Key=manifest_key(HOUR_NORMAL))
        raise AssertionError("the worker may delete a manifest")
    except worker_s3.exceptions.ClientError as err:
        check(err.response["Error"]["Code"] == "AccessDenied", f"the worker deleting a manifest: {err}")
    s = summary_of(run_as(worker, ["merge", "--hour", HOUR_STAGES, "--finish"], stage_env))
    check(s["events_delivered"] == 150 and s["events_rejected"] >= 3 and s["events_undeliverable"] == 0,
          f"finish summary {brief(s)}")
    check(object_exists(ops_bucket, manifest_key(HOUR_STAGES)), "the manifest")
    # Listed whole and filtered here: moto rejects the signature of a Prefix with a "/" in it.
    left = [o["Key"] for o in s3_admin.list_objects_v2(Bucket=ops_bucket).get("Contents", [])
            if o["Key"].startswith("staging/")]
    check(not left, f"finish left staging objects: {left}")
    plan = json.loads(run_as(worker, ["plan", "--hour", HOUR_STAGES, "--workers", "2", "--skip-complete"],
                             stage_env).stdout)
    check(plan.get("complete") is True, f"plan --skip-complete after finish: {plan}")


@case("redelivery: a client bucket created after the run gets its object at the next catch-up, the copy "
      "is deleted")
def redelivery():
    # The catch-up follows the clock: the last complete hour (a later hour is covered by --catch-up 2).
    now = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    hour = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H")
    run_eaglesense(env, ["seed", "--events", "40", "--clients", "4", "--hour", hour, "--missing-bucket-clients",
                         "1", "--seed", "4"], {"DYNAMODB_TABLE_NAME": table, "S3_BUCKET_PREFIX": prefix})
    run_as(exporter, ["run", "--hour", hour], single_env, codes=(3,))
    copy = f"undeliverable/client-003/{object_key(hour)}"
    check(object_exists(ops_bucket, copy), "the undeliverable copy before the bucket exists")
    s3_admin.create_bucket(Bucket=f"{prefix}-client-003")
    s = summary_of(run_as(exporter, ["run", "--catch-up", "2"], single_env))
    check(s.get("redelivered") == 1 and s["events_undeliverable"] == 0, f"summary {brief(s)}")
    check(object_exists(f"{prefix}-client-003", object_key(hour)), "client-003's object after the catch-up")
    check(not object_exists(ops_bucket, copy), "the undeliverable copy is deleted once delivered")


@case("hour leases: a run takes each hour's lease (after probing that conditional writes are honoured) and "
      "deletes it; a stage run under the worker's policy does the same")
def hour_leases():
    proc = run_as(exporter, ["run", "--hour", HOUR_NORMAL], single_env)
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    events = {str(line.get("event", "")) for line in lines}
    check("lease.conditions_ignored" not in events, "moto honours conditional writes: no lease warning expected")
    check("lease.not_released" not in events, f"a lease was not given back: {sorted(events)}")
    check(summary_of(proc)["hours"][0]["status"] == "exported", "the hour ran under its lease")
    left = [o["Key"] for o in s3_admin.list_objects_v2(Bucket=ops_bucket).get("Contents", [])
            if o["Key"].startswith("locks/")]
    check(not left, f"leases or probes left under locks/: {left}")

if failures:
    print(f"FAIL: {len(failures)} case(s) under the template's policies (proxy logs in {proxy_dir}):\n  "
          + "\n  ".join(failures))
    sys.exit(1)
shutil.rmtree(proxy_dir, ignore_errors=True)
print(f"ok (moto, IAM enforced): every case ran under the template's own policies without AccessDenied; "
      f"{len(skipped)} TODO case(s) skipped")
