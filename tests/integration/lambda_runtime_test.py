"""End to end: the packaged Lambda bootstrap against a fake Runtime API and the local servers.

scripts/package_lambda.sh packages this build's binary (as for deployment); the zip is unzipped into a
temporary folder and its `bootstrap` is started with `env -i` plus only what Lambda sets (runtime API,
function name, region, credentials, ...) and the function's settings. A small Runtime API server
(tests/tools/fake_lambda_runtime.py) hands it a fixed list of events, then leaves it idle; the test
checks each response and invocation error, the objects in S3 (boto3), the EMF records on stdout, and
on moto that PutMetricData landed (ListMetrics). A second start with a bad setting must post an init
error. When scripts/package_lambda.sh is missing, build/eaglesense lambda is run directly instead.
"""
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
from es_harness import (METRIC_NAMES, binary_path, check, dynamodb, load_env, s3, session,  # noqa: E402
                        unique)
from fake_lambda_runtime import (FakeLambdaRuntime, Invocation, env_command, lambda_environment,  # noqa: E402
                                 serve, stop_process)

env = load_env()
backend = env.get("EAGLESENSE_BACKEND", "local")
ddb = dynamodb(env)
s3c = s3(env)
prefix = unique("es-lam")
ops = f"{prefix}-ops"
function_name = unique("eaglesense-fn")
workdir = tempfile.mkdtemp(prefix="es-lambda-test-")


def key(hour):
    return f"events-2026-11-29-{hour:02d}.json"


def exists(bucket, object_key):
    try:
        s3c.head_object(Bucket=bucket, Key=object_key)
        return True
    except s3c.exceptions.ClientError:
        return False


# --- the function's world: a table, buckets for alpha and beta (none for gamma), events -------------
table = ddb.create_table(
    TableName=prefix,
    KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
for b in [ops, f"{prefix}-alpha", f"{prefix}-beta"]:
    s3c.create_bucket(Bucket=b)
events = {  # hour -> [(client, count)]
    10: [("alpha", 3), ("beta", 2)],  # the scheduled event's hour
    9: [("alpha", 2)],                # caught up
    7: [("alpha", 1), ("gamma", 2)],  # gamma has no bucket: undeliverable
    4: [("alpha", 1)], 5: [("alpha", 1)], 6: [("alpha", 1)],  # a backfill near the deadline
}
with table.batch_writer() as batch:
    for hour, clients in events.items():
        for client, count in clients:
            for i in range(count):
                t = dt.datetime(2026, 11, 29, hour, 10 + i, tzinfo=dt.timezone.utc)
                batch.put_item(Item={"eventId": f"{client}-{hour}-{i}", "clientId": client,
                                     "time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": f"payload {i}"})

# --- the package --------------------------------------------------------------------------------------
build_dir = os.path.dirname(binary_path(env))
package_script = os.path.join(REPO, "scripts", "package_lambda.sh")
if os.path.exists(package_script):
    out = subprocess.run([package_script, "--build-dir", build_dir, "--no-build", "--out-dir",
                          os.path.join(workdir, "dist")], capture_output=True, text=True, timeout=300)
    check(out.returncode == 0, f"package_lambda.sh failed:\n{out.stderr[-3000:]}")
    zip_path = out.stdout.strip().splitlines()[-1]
    task_root = os.path.join(workdir, "task")
    subprocess.run(["unzip", "-q", zip_path, "-d", task_root], check=True)
    command = [os.path.join(task_root, "bootstrap")]
    print(f"running the packaged bootstrap of {zip_path}")
else:
    task_root = workdir
    command = [binary_path(env), "lambda"]
    print("scripts/package_lambda.sh not found: running build/eaglesense lambda directly")


def lambda_env(runtime, extra=None):
    """What Lambda sets for a provided.al2023 function, and the function's own settings."""
    child = lambda_environment(runtime, function_name, env.get("AWS_REGION", "us-east-1"), env, task_root)
    child.update({
        # The function's configuration (the CloudFormation template's environment).
        "DYNAMODB_TABLE_NAME": prefix,
        "S3_BUCKET_PREFIX": prefix,
        "AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"],
        "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"],
        "EAGLESENSE_CATCH_UP_HOURS": "2",
        "EAGLESENSE_SEGMENTS": "2",
        "AWS_MAX_ATTEMPTS": "3",
    })
    if backend == "moto":
        # moto serves CloudWatch on the same port: metrics go out with PutMetricData too.
        child["EAGLESENSE_METRICS"] = "cloudwatch"
        child["AWS_ENDPOINT_URL_CLOUDWATCH"] = env["AWS_ENDPOINT_URL_DYNAMODB"]
    child.update(extra or {})
    return child


def start(runtime, extra=None):
    stdout = open(os.path.join(workdir, f"stdout-{runtime.address.split(':')[1]}"), "w+")
    stderr = open(os.path.join(workdir, f"stderr-{runtime.address.split(':')[1]}"), "w+")
    proc = subprocess.Popen(env_command(lambda_env(runtime, extra), command), stdout=stdout, stderr=stderr,
                            cwd=task_root)
    return proc, stdout, stderr


def output(f):
    f.flush()
    f.seek(0)
    return f.read()


scheduled = json.dumps({
    "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
    "source": "aws.events", "account": "123456789012", "time": "2026-11-29T11:05:00Z", "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/eaglesense-hourly"], "detail": {}})
invocations = [
    Invocation("sched-1", scheduled),
    Invocation("hour-2", json.dumps({"hour": "2026-11-29T07"})),
    Invocation("bad-3", json.dumps({"hour": "yesterday"})),
    Invocation("bad-4", "this is not json"),
    # Five seconds left (the hour budget is 120 s): the first hour runs, the others are reported.
    Invocation("range-5", json.dumps({"from": "2026-11-29T04", "to": "2026-11-29T06"}), deadline_in_ms=5_000),
    Invocation("sched-6", scheduled),  # Lambda's retry of the first event
]
ids = [i.request_id for i in invocations]

runtime = FakeLambdaRuntime(invocations).start()
proc, out_file, err_file = start(runtime)
# The loop asks for the next event once more and then waits: it is idle, not gone.
missing, still_running = serve(runtime, proc, ids, timeout=240)
stdout_text, stderr_text = output(out_file), output(err_file)
diagnostics = f"\nstdout:\n{stdout_text[-3000:]}\nstderr:\n{stderr_text[-6000:]}"
check(not missing, f"no answer for {missing}; unknown requests {runtime.unknown_requests}{diagnostics}")
check(still_running and runtime.idle_next_calls >= 1, f"the loop should wait for the next event{diagnostics}")
check(not runtime.unknown_requests, f"unexpected requests: {runtime.unknown_requests}")
r = runtime.results


def hours(summary):
    return [f"{h['hour']} {h['status']}" for h in summary["hours"]]


# 1. The scheduled event: its hour, then the catch-up of the two hours before it.
check(r["sched-1"].kind == "response", f"sched-1: {r['sched-1']}{diagnostics}")
s1 = r["sched-1"].json()
check(hours(s1) == ["2026-11-29T10 exported", "2026-11-29T08 exported", "2026-11-29T09 exported"], f"sched-1: {s1}")
check(s1["events_delivered"] == 7 and s1["events_undeliverable"] == 0, f"sched-1 counts: {s1}")
check(s1["hours_not_done"] == [], f"sched-1: {s1}")
check(exists(f"{prefix}-alpha", key(10)) and exists(f"{prefix}-beta", key(10)), "hour 10 objects")
check(exists(f"{prefix}-alpha", key(9)), "hour 09 object (catch-up)")
check(exists(ops, "manifests/2026/11/29/08.json"), "hour 08 manifest (catch-up of an empty hour)")
alpha10 = json.loads(s3c.get_object(Bucket=f"{prefix}-alpha", Key=key(10))["Body"].read())
# After its hours, the scheduled run publishes the status report of the last 7 days (EAGLESENSE_REPORT's
# default); the explicit hour and range events do not.
check(exists(ops, "reports/last-7-days.html") and exists(ops, "reports/last-7-days.json"), "the status report")
report = json.loads(s3c.get_object(Bucket=ops, Key="reports/last-7-days.json")["Body"].read())
check(len(report["hours"]) == 168, f"the report's hours: {len(report['hours'])}")
page = s3c.get_object(Bucket=ops, Key="reports/last-7-days.html")
check(page["ContentType"].startswith("text/html") and page["Body"].read().startswith(b"<!DOCTYPE html>"),
      "the report's page")
check([e["eventId"] for e in alpha10] == ["alpha-10-0", "alpha-10-1", "alpha-10-2"], f"alpha 10: {alpha10}")

# 2. A client without a bucket: an invocation error whose message is the summary.
check(r["hour-2"].kind == "error" and r["hour-2"].error_type == "Undeliverable", f"hour-2: {r['hour-2']}")
e2 = r["hour-2"].json()
check(e2["errorType"] == "Undeliverable", f"hour-2: {e2}")
s2 = json.loads(e2["errorMessage"])
check(s2["events_undeliverable"] == 2 and s2["events_delivered"] == 1, f"hour-2 summary: {s2}")
check(exists(ops, f"undeliverable/gamma/{key(7)}"), "gamma's events kept in the ops bucket")

# 3-4. Malformed payloads: InvalidEvent, with a message saying what is wrong.
for rid, says in [("bad-3", "'hour'"), ("bad-4", "not JSON")]:
    check(r[rid].kind == "error" and r[rid].error_type == "InvalidEvent", f"{rid}: {r[rid]}")
    body = r[rid].json()
    check(body["errorType"] == "InvalidEvent" and says in body["errorMessage"], f"{rid}: {body}")

# 5. Near the deadline: the first hour is exported, the rest reported as not done.
check(r["range-5"].kind == "response", f"range-5: {r['range-5']}")
s5 = r["range-5"].json()
check(hours(s5) == ["2026-11-29T04 exported"], f"range-5: {s5}")
check(s5["hours_not_done"] == [{"hour": "2026-11-29T05", "reason": "no_time"},
                               {"hour": "2026-11-29T06", "reason": "no_time"}], f"range-5: {s5}")
check(exists(f"{prefix}-alpha", key(4)) and not exists(f"{prefix}-alpha", key(5)), "range-5 objects")

# 6. The retried scheduled event: the same hour again (identical bytes); the catch-up hours are complete.
check(r["sched-6"].kind == "response", f"sched-6: {r['sched-6']}")
s6 = r["sched-6"].json()
check(hours(s6) == ["2026-11-29T10 exported", "2026-11-29T08 skipped", "2026-11-29T09 skipped"], f"sched-6: {s6}")
again = json.loads(s3c.get_object(Bucket=f"{prefix}-alpha", Key=key(10))["Body"].read())
check(again == alpha10, "the retry rewrote hour 10 differently")

# Logs: JSON lines on stderr, no secret. EMF: one record per run on stdout, nothing else there.
for line in stderr_text.splitlines():
    json.loads(line)
check(env["AWS_SECRET_ACCESS_KEY"] not in stderr_text + stdout_text, "a secret reached the output")
records = [json.loads(line) for line in stdout_text.splitlines()]
check(len(records) == 4, f"expected 4 EMF records (4 runs), got {len(records)}:\n{stdout_text}")
for rec, rid in zip(records, ["sched-1", "hour-2", "range-5", "sched-6"]):
    directive = rec["_aws"]["CloudWatchMetrics"][0]
    check(isinstance(rec["_aws"]["Timestamp"], int), f"EMF Timestamp: {rec}")
    check(directive["Namespace"] == "EagleSense" and directive["Dimensions"] == [["FunctionName"]], f"EMF: {rec}")
    check({m["Name"] for m in directive["Metrics"]} == METRIC_NAMES, f"EMF metrics: {directive['Metrics']}")
    check(all(isinstance(rec[n], (int, float)) for n in METRIC_NAMES), f"EMF values: {rec}")
    check(rec["FunctionName"] == function_name and rec["RequestId"] == rid, f"EMF members: {rec}")
check(records[0]["EventsDelivered"] == 7 and records[1]["EventsUndeliverable"] == 2, f"EMF values: {records[:2]}")
check([rec["ReportsFailed"] for rec in records] == [0, 0, 0, 0], f"ReportsFailed: {records}")

# PutMetricData landed in moto (local servers have no CloudWatch).
if backend == "moto":
    cw = session(env).client("cloudwatch", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])
    listed = cw.list_metrics(Namespace="EagleSense", Dimensions=[{"Name": "FunctionName", "Value": function_name}])
    names = {m["MetricName"] for m in listed["Metrics"]}
    check(names == METRIC_NAMES, f"ListMetrics shows {sorted(names)}")
else:
    print("PutMetricData: skipped on the local backend (dynalite/s3rver have no CloudWatch); EMF checked")

# A bad setting: the runtime posts an init error naming it and exits 2.
bad_runtime = FakeLambdaRuntime([]).start()
bad, bad_out, bad_err = start(bad_runtime, {"OUTPUT_FORMAT": "xml"})
try:
    init_error = bad_runtime.wait_for_init_error(timeout=60)  # posted before the process exits
    code = bad.wait(30)
finally:
    stop_process(bad)
    bad_runtime.stop()
check(init_error is not None, f"no init error posted:\n{output(bad_err)}")
check(init_error.error_type == "InvalidConfiguration", f"init error: {init_error}")
check("OUTPUT_FORMAT" in init_error.json()["errorMessage"], f"init error: {init_error.body}")
check(code == 2, f"exit code after an init error: {code}")

shutil.rmtree(workdir, ignore_errors=True)
print(f"ok ({backend}): {len(ids)} invocations answered, {len(records)} EMF records, init error checked")
