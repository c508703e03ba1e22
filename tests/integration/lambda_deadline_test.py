"""End to end: the Lambda invocation's deadline, respected (issue 19, item 3), over real HTTP.

build/eaglesense lambda is started with `env -i` plus what Lambda sets, against the fake Runtime API
(tests/tools/fake_lambda_runtime.py), the backend's DynamoDB directly, and S3 through the fault suite's
mitmdump proxy (tests/fault/lib/fault_harness.py Proxies with tests/fault/fault_addon.py). The proxy
holds every UploadPart of the multipart client "big" (a 6.4 MB object, 5 MiB parts) for PART_DELAY_S,
longer than the invocation has, so the hour 2026-11-29T10 deterministically meets the stop mid-upload.
With DEADLINE_S = 12 s the margin is 3 s: work stops 9 s after the event was served, clean-up
(AbortMultipartUpload, the lease's DELETE, StartExecution) may go on until 11.25 s.

It proves:
  A. Without a state machine (both backends; twice, the second a warm invocation of the same process)
     the stopped hour fails the invocation: HourFailed, whose
     summary has the hour "stopped", hours_stopped 1, hours_not_done [{hour, reason: deadline}], and
     says it was not handed off. The answer came after the stop and before the deadline, no S3 request
     but clean-up (DELETE) started after the stop, the delayed part's upload was aborted (the proxy saw
     the DELETE ?uploadId= of that upload after the part; on moto list_multipart_uploads is empty), and
     the hour left no manifest, no lease under locks/, no undeliverable/ copy (nor logged one). The
     same checks hold for every stopped invocation of B.
  B. Hand-off (moto only: moto_server also serves Step Functions): with EAGLESENSE_STATE_MACHINE_ARN
     and AWS_ENDPOINT_URL_SFN the stopped hour is handed to the state machine and the invocation
     succeeds: handed_off_to is the execution's ARN, the execution is named hour-2026-11-29T10 and
     its input is {"hour": "2026-11-29T10"}. A second hand-off of the same hour (its execution closed)
     is refused, so that invocation is HourFailed and the hour's error says the execution exists.
  C. Nothing lost: with the latency removed and an ample deadline, the same hour is exported; its
     manifest exists and every client's object holds exactly the events seeded for it (read with
     boto3 from the server, not through the proxy).

What fails without the feature (each tried once on a build with that part of the product removed):
  - no HTTP timeout at the stop (src/aws/caller.cpp): the part waits the proxy's 20 s, the answer comes
    past the 12 s deadline;
  - no clean-up scope for AbortMultipartUpload: the abort is refused after the stop, no DELETE
    ?uploadId= reaches the proxy. curl's timeout is set in whole milliseconds, so the part's request
    sometimes ends a fraction of a millisecond before the stop, and then the abort starts in time even
    without the scope: each stopped invocation catches this with a good chance, not for certain, hence
    two of them on local and four on moto;
  - no clean-up scope for the lease's release: the lease stays under locks/ (moto only: s3rver ignores
    conditional writes, so the exporter takes no lease on local at all);
  - a deadline error treated as the bucket's fault: the client is set aside as undeliverable (the
    export.undeliverable log record; the copy itself is refused after the stop, so the bucket alone
    would not show it).
"""
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "fault", "lib"))
from es_harness import binary_path, check, dynamodb, load_env, object_key, s3, session, unique  # noqa: E402
from fake_lambda_runtime import FakeLambdaRuntime, Invocation, env_command, lambda_environment, serve  # noqa: E402
from fault_harness import Proxies  # noqa: E402

HOUR = "2026-11-29T10"
KEY = object_key(HOUR)  # events-2026-11-29-10.json
MANIFEST_KEY = "manifests/2026/11/29/10.json"
LOCK_KEY = f"locks/{HOUR}.json"
DEADLINE_S = 12.0          # time left when the event is served
STOP_S = DEADLINE_S * 3 / 4  # margin = min(10 s, a quarter of the time left): work stops at 9 s
PART_DELAY_S = 20          # > DEADLINE_S: the delayed part cannot be answered within the invocation
BIG_ITEMS, BIG_DATA_CHARS = 200, 32_000  # 6.4 MB: a multipart upload of two 5 MiB parts
EXECUTION_NAME = f"hour-{HOUR}"

env = load_env()
backend = env.get("EAGLESENSE_BACKEND", "local")
ddb = dynamodb(env)
s3c = s3(env)  # straight to the server: no fault can hide or fake a result
prefix = unique("es-dl")
ops = f"{prefix}-ops"
function_name = unique("eaglesense-fn")
workdir = tempfile.mkdtemp(prefix="es-deadline-test-")
t0 = time.time()


def log(message):
    print(f"[{time.time() - t0:5.1f}s] {message}", flush=True)


# --- the function's world: a table, three client buckets, the hour's events --------------------------
table = ddb.create_table(
    TableName=prefix,
    KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
clients = {"alpha": 3, "beta": 2, "big": BIG_ITEMS}
for b in [ops] + [f"{prefix}-{c}" for c in clients]:
    s3c.create_bucket(Bucket=b)
seeded = {c: set() for c in clients}
# On moto a Scan costs ~4 ms per item: "big" is few large items (as tests/fault/fault_fixture.py's
# DATASETS), not many small ones.
with table.batch_writer() as batch:
    for client, count in clients.items():
        for i in range(count):
            t = dt.datetime(2026, 11, 29, 10, 0, 0, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=7 * i + 1)
            event_id = f"{client}-{i:04d}"
            data = f"{event_id} " + (chr(ord("a") + i % 26) * BIG_DATA_CHARS if client == "big" else "payload")
            batch.put_item(Item={"eventId": event_id, "clientId": client,
                                 "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data})
            seeded[client].add(event_id)
log(f"seeded {sum(clients.values())} events for {sorted(clients)} in table {prefix}")

# --- the proxy in front of S3 -------------------------------------------------------------------------
proxies = Proxies({"state_dir": workdir, "env_file": env["_env_file"]}, "deadline").start()
SLOW_PARTS = [{"name": "part-slow", "service": "s3", "method": "PUT",
               "path": f"^/{prefix}-big/{KEY}\\?.*partNumber=", "fault": "latency",
               "delay_s": PART_DELAY_S, "times": None}]
log(f"S3 proxy on {proxies.endpoints()['AWS_ENDPOINT_URL_S3']}")


def lambda_env(runtime, extra=None):
    """What Lambda sets for a provided.al2023 function, and the function's own settings."""
    child = lambda_environment(runtime, function_name, env.get("AWS_REGION", "us-east-1"), env, workdir)
    child.update({
        # The function's configuration.
        "DYNAMODB_TABLE_NAME": prefix,
        "S3_BUCKET_PREFIX": prefix,
        "AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"],
        "AWS_ENDPOINT_URL_S3": proxies.endpoints()["AWS_ENDPOINT_URL_S3"],
        "EAGLESENSE_MULTIPART_THRESHOLD_MB": "5",
        "EAGLESENSE_PART_SIZE_MB": "5",
        "AWS_MAX_ATTEMPTS": "3",
    })
    child.update(extra or {})
    return child


log_events = {}  # tag -> the JSON log records of the process that served it (stderr)


def invoke(tags, deadline_s, extra=None):
    """One cold function process serving one {"hour": HOUR} event per tag (warm invocations after the
    first), each with deadline_s left. Returns, per tag, the runtime's Result, the S3 proxy's log
    records of that invocation (those between its serving and its answer: clean-up comes before the
    answer) and the process's stderr for messages."""
    invocations = [Invocation(tag, json.dumps({"hour": HOUR}), deadline_in_ms=int(deadline_s * 1000))
                   for tag in tags]
    runtime = FakeLambdaRuntime(invocations).start()
    name = "+".join(tags)
    out = open(os.path.join(workdir, f"{name}.stdout"), "w+")
    err = open(os.path.join(workdir, f"{name}.stderr"), "w+")
    offsets = proxies.log_offsets()
    proc = subprocess.Popen(env_command(lambda_env(runtime, extra), [binary_path(env), "lambda"]), stdout=out,
                            stderr=err, cwd=workdir)
    # Ended once idle: it asks for the next event once it has its answer's acknowledgement.
    missing, _ = serve(runtime, proc, tags, timeout=len(tags) * deadline_s + 60, idle_timeout=10)
    err.seek(0)
    stderr_text = err.read()
    diagnostics = f"\nstderr of {name}:\n{stderr_text[-6000:]}"
    check(not missing, f"{name}: no answer for {missing} (exit {proc.returncode}){diagnostics}")
    check(not runtime.unknown_requests, f"{name}: unexpected requests {runtime.unknown_requests}")
    records = proxies.requests_since(offsets)["s3"]
    answers = []
    for tag in tags:
        r = runtime.results[tag]
        log(f"{tag}: {r.kind} {r.error_type} after {r.answered_at - r.served_at:.2f}s")
        log_events[tag] = [json.loads(line) for line in stderr_text.splitlines() if line.startswith("{")]
        answers.append((r, [rec for rec in records if r.served_at <= rec.get("t", 0) <= r.answered_at], diagnostics))
    return answers


def summary_of(result):
    """The invocation's summary: the response body, or an error's errorMessage."""
    if result.kind == "response":
        return result.json()
    return json.loads(result.json()["errorMessage"])


def keys(bucket, key_prefix=""):
    # Filtered here, not with Prefix=: moto's signature check refuses a ListObjectsV2 whose Prefix
    # holds a '/' (SignatureDoesNotMatch). The ops bucket holds a handful of keys.
    page = s3c.list_objects_v2(Bucket=bucket)
    check(not page.get("IsTruncated"), f"{bucket}: more than one page of keys")
    return [o["Key"] for o in page.get("Contents", []) if o["Key"].startswith(key_prefix)]


def check_stopped(tag, result, records, diagnostics, handed_off_to=None):
    """The hour met the stop and was cleaned up (item 1 of the brief), whatever became of it next."""
    s = summary_of(result)
    what = f"{tag}: {json.dumps(s)[:3000]}{diagnostics}"
    check(len(s["hours"]) == 1 and s["hours"][0]["hour"] == HOUR and s["hours"][0]["status"] == "stopped", what)
    check(s["hours_stopped"] == 1 and s["hours_failed"] == 0 and s["hours_exported"] == 0, what)
    check(s["events_undeliverable"] == 0 and s["hours"][0]["events_undeliverable"] == 0, what)
    not_done = {"hour": HOUR, "reason": "deadline"}
    if handed_off_to:
        not_done["handed_off_to"] = handed_off_to
    check(s["hours_not_done"] == [not_done], what)
    check("DeadlineExceeded" in s["hours"][0].get("error", ""), what)

    # In time: after the stop (the part was waited for until then, not given up early), before the
    # deadline. served_at is taken just before the fake runtime computes the deadline it sends, so
    # served_at + DEADLINE_S is at most the deadline, and served_at + STOP_S at most the stop.
    took = result.answered_at - result.served_at
    check(STOP_S - 0.05 <= took < DEADLINE_S, f"{tag}: answered {took:.3f}s after being served "
                                              f"(stop {STOP_S}s, deadline {DEADLINE_S}s){diagnostics}")

    # The proxy's view: the delayed part, then the abort of its upload (clean-up, after the stop).
    parts = [r for r in records if r.get("rule") == "part-slow"]
    check(parts, f"{tag}: no UploadPart reached the proxy: {records}{diagnostics}")
    upload_id = urllib.parse.parse_qs(urllib.parse.urlsplit(parts[0]["path"]).query)["uploadId"][0]
    aborts = [r for r in records if r.get("method") == "DELETE" and r["path"].startswith(f"/{prefix}-big/{KEY}?")
              and urllib.parse.parse_qs(urllib.parse.urlsplit(r["path"]).query).get("uploadId") == [upload_id]]
    check(aborts and aborts[0]["t"] > parts[0]["t"],
          f"{tag}: no AbortMultipartUpload of {upload_id} after its delayed part: {records}{diagnostics}")
    stop_at = result.served_at + STOP_S
    late = [f"{r['method']} {r['path']} at +{r['t'] - result.served_at:.2f}s" for r in records
            if r.get("t", 0) > stop_at + 0.25 and r.get("method") != "DELETE"]
    check(not late, f"{tag}: S3 requests other than clean-up started after the stop: {late}{diagnostics}")
    if backend == "moto":
        uploads = s3c.list_multipart_uploads(Bucket=f"{prefix}-big").get("Uploads", [])
        check(not uploads, f"{tag}: multipart uploads left in {prefix}-big: {uploads}")
    # else: s3rver does not implement AbortMultipartUpload (nor ListMultipartUploads): on local only
    # the DELETE ?uploadId= sent is checked (above).

    # What a stopped hour must not leave: a manifest, a lease, a client set aside.
    check(not keys(ops, "manifests/"), f"{tag}: a manifest was written: {keys(ops, 'manifests/')}")
    check(not keys(ops, "locks/"), f"{tag}: left under locks/: {keys(ops, 'locks/')}")
    check(not keys(ops, "undeliverable/"), f"{tag}: undeliverable copies: {keys(ops, 'undeliverable/')}")
    # Nor tried to: the copy's PUT is refused once the stop has come, so the bucket alone cannot tell.
    set_aside = [e for e in log_events[tag] if e.get("event") == "export.undeliverable"]
    set_aside += [r for r in records if "/undeliverable/" in r.get("path", "")]
    check(not set_aside, f"{tag}: a client was set aside as undeliverable: {set_aside}")
    if backend == "moto":
        # moto honours If-None-Match, so the hour held a lease: its release must be in the log.
        # (s3rver ignores conditional writes: the exporter takes no lease there at all.)
        released = [r for r in records if r.get("method") == "DELETE" and r["path"] == f"/{ops}/{LOCK_KEY}"]
        check(released, f"{tag}: the lease {LOCK_KEY} was not given back: {records}{diagnostics}")
    return s


try:
    # A. No state machine: the stopped hour fails the invocation (both backends). Twice, the second
    # a warm invocation of the same process: its own deadline is set anew, and the stopped hour of the
    # first left nothing (no lease) in its way.
    proxies.write_plan(SLOW_PARTS, "slow-parts")
    for tag, (r, records, diag) in zip(["stop-1", "stop-1b"], invoke(["stop-1", "stop-1b"], DEADLINE_S)):
        check(r.kind == "error" and r.error_type == "HourFailed", f"{tag}: {r}{diag}")
        check(r.json()["errorType"] == "HourFailed", f"{tag}: {r.body}")
        s = check_stopped(tag, r, records, diag)
        error = s["hours"][0]["error"]
        check("not handed off" in error and "EAGLESENSE_STATE_MACHINE_ARN" in error,
              f"{tag}: the hour's error does not say why it was not handed off: {error}")

    # B. Hand-off to the state machine (moto only).
    if backend == "moto":
        sfn = session(env).client("stepfunctions", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])
        machine = sfn.create_state_machine(
            name=unique("eaglesense-scale-out"),
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/eaglesense-states")["stateMachineArn"]
        with_machine = {"EAGLESENSE_STATE_MACHINE_ARN": machine,
                        "AWS_ENDPOINT_URL_SFN": env["AWS_ENDPOINT_URL_DYNAMODB"]}
        [(r, records, diag)] = invoke(["handoff-2"], DEADLINE_S, with_machine)
        check(r.kind == "response", f"handoff-2: {r}{diag}")
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        check(len(executions) == 1 and executions[0]["name"] == EXECUTION_NAME, f"executions: {executions}")
        arn = executions[0]["executionArn"]
        s = check_stopped("handoff-2", r, records, diag, handed_off_to=arn)
        check(s["hours"][0].get("handed_off_to") == arn, f"handoff-2: {s['hours'][0]}")
        described = sfn.describe_execution(executionArn=arn)
        check(json.loads(described["input"]) == {"hour": HOUR}, f"execution input: {described['input']}")

        # A second hand-off of the hour. Step Functions refuses a name used before, except that
        # StartExecution with the same name and input as a *running* execution returns that execution
        # (idempotent). moto 5.2.1 runs no state machine, so its executions stay RUNNING for ever
        # (moto/stepfunctions/models.py, StateMachine._handle_name_input_idempotency): the second
        # hand-off would be accepted as the first one again. On AWS the trivial Pass execution has
        # long finished by then, which is what StopExecution makes of it here (ABORTED, a closed
        # execution): then moto, like AWS, answers ExecutionAlreadyExists.
        sfn.stop_execution(executionArn=arn)
        [(r, records, diag)] = invoke(["handoff-3"], DEADLINE_S, with_machine)
        check(r.kind == "error" and r.error_type == "HourFailed", f"handoff-3: {r}{diag}")
        s = check_stopped("handoff-3", r, records, diag)
        error = s["hours"][0]["error"]
        check("not handed off" in error and f"an execution named {EXECUTION_NAME} exists already" in error,
              f"handoff-3: the hour's error does not say the execution exists: {error}")
        check(len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1, "a second execution")
    else:
        print("hand-off: skipped on the local backend (dynalite/s3rver serve no Step Functions)")

    # C. Nothing lost: no latency, an ample deadline, the same hour.
    proxies.write_plan([], "no-faults")
    [(r, records, diag)] = invoke(["again-4"], 120)
    check(r.kind == "response", f"again-4: {r}{diag}")
    s = r.json()
    check([(h["hour"], h["status"]) for h in s["hours"]] == [(HOUR, "exported")], f"again-4: {s}")
    check(s["hours_not_done"] == [] and s["events_delivered"] == sum(clients.values()), f"again-4: {s}")
    manifest = json.loads(s3c.get_object(Bucket=ops, Key=MANIFEST_KEY)["Body"].read())
    check({o["client"]: o["events"] for o in manifest["objects"]} == clients, f"manifest: {manifest}")
    for client, ids in seeded.items():
        body = s3c.get_object(Bucket=f"{prefix}-{client}", Key=KEY)["Body"].read()
        exported = json.loads(body)
        got = [e["eventId"] for e in exported]
        check(len(got) == len(ids) and set(got) == ids, f"{client}: exported {len(got)} events, seeded {len(ids)}")
    check(any("partNumber=" in rec["path"] for rec in records), "again-4: the big object was not a multipart upload")
    check(not keys(ops, "locks/") and not keys(ops, "undeliverable/"), f"again-4: {keys(ops)}")
    log(f"again-4: manifest revision {manifest.get('revision')}, {len(seeded)} clients' objects complete")
finally:
    proxies.stop()

shutil.rmtree(workdir, ignore_errors=True)
print(f"ok ({backend}): stopped hour clean at the deadline"
      f"{', handed off and refused a second time' if backend == 'moto' else ''}, then exported in full "
      f"({time.time() - t0:.1f}s)")
