"""`eaglesense run` metrics: the EMF record among the log lines (EAGLESENSE_METRICS=emf) and, on moto,
PutMetricData read back with boto3's GetMetricStatistics (`--metrics cloudwatch`). dynalite/s3rver have
no CloudWatch: on the local backend the PutMetricData check is skipped, and a CloudWatch endpoint that
refuses connections must not fail the run (metrics are best effort, the export is not).
"""
import datetime as dt
import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from es_harness import (METRIC_NAMES, check, dynamodb, load_env, run_eaglesense, s3, session,  # noqa: E402
                        unique)

env = load_env()
backend = env.get("EAGLESENSE_BACKEND", "local")
ddb = dynamodb(env)
s3c = s3(env)
prefix = unique("es-cwm")
HOUR = "2026-11-29T10"

table = ddb.create_table(
    TableName=prefix,
    KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
for b in [f"{prefix}-ops", f"{prefix}-alpha"]:
    s3c.create_bucket(Bucket=b)
with table.batch_writer() as batch:
    for i in range(7):
        batch.put_item(Item={"eventId": f"e{i}", "clientId": "alpha", "time": f"2026-11-29T10:0{i}:00Z"})
settings = {"DYNAMODB_TABLE_NAME": prefix, "S3_BUCKET_PREFIX": prefix}


def emf_records(stderr):
    return [rec for rec in (json.loads(line) for line in stderr.splitlines()) if "_aws" in rec]


# Default for `run`: no metrics.
plain = run_eaglesense(env, ["run", "--hour", HOUR], settings)
check(emf_records(plain.stderr) == [], "run must not emit metrics unless asked")

# emf: one record among the log lines (stdout keeps the summary alone).
emf = run_eaglesense(env, ["run", "--hour", HOUR], {**settings, "EAGLESENSE_METRICS": "emf"})
json.loads(emf.stdout)
records = emf_records(emf.stderr)
check(len(records) == 1, f"expected one EMF record on stderr:\n{emf.stderr}")
rec = records[0]
directive = rec["_aws"]["CloudWatchMetrics"][0]
check(isinstance(rec["_aws"]["Timestamp"], int) and directive["Namespace"] == "EagleSense", f"EMF: {rec}")
check(directive["Dimensions"] == [[]], f"run has no FunctionName dimension: {directive}")
check({m["Name"] for m in directive["Metrics"]} == METRIC_NAMES, f"EMF metrics: {directive['Metrics']}")
check(rec["EventsDelivered"] == 7 and rec["HoursExported"] == 1, f"EMF values: {rec}")

if backend == "moto":
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    cw_env = {**settings, "AWS_ENDPOINT_URL_CLOUDWATCH": env["AWS_ENDPOINT_URL_DYNAMODB"]}
    proc = run_eaglesense(env, ["run", "--hour", HOUR, "--metrics", "cloudwatch"], cw_env)
    check("metrics.put_failed" not in proc.stderr, f"PutMetricData failed:\n{proc.stderr}")
    cw = session(env).client("cloudwatch", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])
    listed = cw.list_metrics(Namespace="EagleSense")["Metrics"]
    names = {m["MetricName"] for m in listed if not m.get("Dimensions")}
    check(METRIC_NAMES <= names, f"ListMetrics (no dimension) shows {sorted(names)}")
    stats = cw.get_metric_statistics(Namespace="EagleSense", MetricName="EventsDelivered", StartTime=start,
                                     EndTime=start + dt.timedelta(minutes=15), Period=60, Statistics=["Maximum"])
    check(any(p["Maximum"] == 7 for p in stats["Datapoints"]), f"EventsDelivered datapoints: {stats['Datapoints']}")
    print("ok (moto): EMF record on stderr, PutMetricData read back with ListMetrics and GetMetricStatistics")
else:
    # A CloudWatch endpoint that refuses connections: the export still succeeds, the failure is logged.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    proc = run_eaglesense(env, ["run", "--hour", HOUR, "--metrics", "cloudwatch"],
                          {**settings, "AWS_ENDPOINT_URL_CLOUDWATCH": f"http://127.0.0.1:{closed_port}"})
    check(json.loads(proc.stdout)["events_delivered"] == 7, "the export must not depend on CloudWatch")
    check("metrics.put_failed" in proc.stderr, f"the PutMetricData failure must be logged:\n{proc.stderr}")
    check(len(emf_records(proc.stderr)) == 1, "the EMF record is written before PutMetricData")
    print("ok (local): EMF record checked; PutMetricData skipped: dynalite/s3rver have no CloudWatch "
          "(a refused CloudWatch endpoint did not fail the run)")
