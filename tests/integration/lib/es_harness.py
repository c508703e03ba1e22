"""Helpers for the Python integration tests: the local servers' endpoints (from the ctest fixture's
env file), boto3 clients built from them, and running the eaglesense binary.

Run by Debian's /usr/bin/python3 (python3-boto3); boto3 ignores AWS_ENDPOINT_URL_*, so every client is
given its endpoint explicitly.
"""
import base64
import json
import os
import secrets
import subprocess
import sys
from decimal import Decimal

import boto3
from boto3.dynamodb.types import Binary


# The metrics of every run (src/export/metrics.cpp), as EMF records and PutMetricData name them.
METRIC_NAMES = {"EventsRead", "EventsDelivered", "EventsRejected", "EventsUndeliverable", "Clients", "Objects",
                "Bytes", "DurationMs", "EventsPerSecond", "PeakRssBytes", "Retries", "ConsumedReadCapacity",
                "HoursExported", "HoursFailed"}


def load_env():
    path = os.environ.get("EAGLESENSE_TEST_ENV_FILE")
    if not path:
        sys.exit("EAGLESENSE_TEST_ENV_FILE is not set: run through ctest (the local-aws fixture sets it)")
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                values[k] = v
    values["_env_file"] = path
    return values


def binary_path(env):
    explicit = os.environ.get("EAGLESENSE_BIN")
    if explicit:
        return explicit
    # The fixture's env file lives at <build>/local-aws/<backend>/env.
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(env["_env_file"]))))
    return os.path.join(build, "eaglesense")


def unique(prefix):
    return f"{prefix}-{secrets.token_hex(4)}"


def session(env):
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env.get("AWS_REGION", "us-east-1"),
    )


def dynamodb(env):
    return session(env).resource("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])


def s3(env):
    from botocore.config import Config

    return session(env).client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"],
                               config=Config(s3={"addressing_style": "path"}))


def run_eaglesense(env, args, extra_env=None, check_codes=(0,)):
    """Runs build/eaglesense with only the variables the fixture provides (plus extra_env)."""
    child_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ENDPOINT_URL_DYNAMODB": env["AWS_ENDPOINT_URL_DYNAMODB"],
        "AWS_ENDPOINT_URL_S3": env["AWS_ENDPOINT_URL_S3"],
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "3",
    }
    child_env.update(extra_env or {})
    proc = subprocess.run([binary_path(env)] + args, env=child_env, capture_output=True, text=True, timeout=600)
    if proc.returncode not in check_codes:
        raise AssertionError(f"eaglesense {' '.join(args)} exited {proc.returncode}, expected {check_codes}\n"
                             f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}")
    return proc


def _canon(value):
    """A sortable, hashable text form of a comparable value (for set comparison)."""
    return json.dumps(value, sort_keys=True, default=str)


def same_value(expected, exported, path="item"):
    """Compares boto3's view of a value (expected) with the exported JSON (loaded by load_exported).
    Numbers compare as Decimal, binary as base64 text, sets as multisets. Returns a list of mismatches."""
    if isinstance(expected, Binary) or isinstance(expected, (bytes, bytearray)):
        raw = expected.value if isinstance(expected, Binary) else bytes(expected)
        want = base64.b64encode(raw).decode()
        return [] if exported == want else [f"{path}: binary {want!r} != {exported!r}"]
    if isinstance(expected, set):
        if not isinstance(exported, list):
            return [f"{path}: set exported as {type(exported).__name__}"]
        want = sorted(_canon(plain(v)) for v in expected)
        got = sorted(_canon(v) for v in exported)
        return [] if want == got else [f"{path}: set {want} != {got}"]
    if isinstance(expected, dict):
        if not isinstance(exported, dict):
            return [f"{path}: map exported as {type(exported).__name__}"]
        if set(expected) != set(exported):
            return [f"{path}: keys {sorted(expected)} != {sorted(exported)}"]
        out = []
        for k in expected:
            out += same_value(expected[k], exported[k], f"{path}.{k}")
        return out
    if isinstance(expected, list):
        if not isinstance(exported, list) or len(expected) != len(exported):
            return [f"{path}: list {expected!r:.200} != {exported!r:.200}"]
        out = []
        for i, (a, b) in enumerate(zip(expected, exported)):
            out += same_value(a, b, f"{path}[{i}]")
        return out
    if isinstance(expected, bool) or expected is None:
        return [] if exported is expected else [f"{path}: {expected!r} != {exported!r}"]
    if isinstance(expected, Decimal):
        if isinstance(exported, bool) or not isinstance(exported, Decimal):
            return [f"{path}: number {expected} exported as {exported!r:.100}"]
        return [] if expected == exported else [f"{path}: {expected} != {exported}"]
    return [] if expected == exported else [f"{path}: {expected!r:.200} != {exported!r:.200}"]


def plain(value):
    """boto3's view of a value as plain JSON-able data (binary as base64 text, sets as lists)."""
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [plain(v) for v in value]
    return value


def load_exported(body):
    return json.loads(body, parse_float=Decimal, parse_int=Decimal)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def deserialize(av):
    """A DynamoDB attribute value (low-level client form) as Python values, numbers as exact Decimal.
    boto3's own TypeDeserializer caps precision at 38 digits and raises on the expanded forms some
    servers return (dynalite stores 1E+125 as 126 digits), so the comparison uses this one."""
    (kind, v), = av.items()
    if kind == "S":
        return v
    if kind == "N":
        return Decimal(v)
    if kind == "B":
        return Binary(v)
    if kind == "BOOL":
        return v
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: deserialize(x) for k, x in v.items()}
    if kind == "L":
        return [deserialize(x) for x in v]
    if kind == "SS":
        return set(v)
    if kind == "NS":
        return {Decimal(x) for x in v}
    if kind == "BS":
        return {Binary(x) for x in v}
    raise ValueError(f"unknown DynamoDB type {kind}")


def read_item(env, table_name, key):
    client = session(env).client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])
    item = client.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]
    return {k: deserialize(v) for k, v in item.items()}
