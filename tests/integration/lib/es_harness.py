"""Helpers for the Python integration tests: the local servers' endpoints (from the ctest fixture's
env file), boto3 clients built from them, and running the eaglesense binary.

Run by Debian's /usr/bin/python3 (python3-boto3); boto3 ignores AWS_ENDPOINT_URL_*, so every client is
given its endpoint explicitly.
"""
import base64
import json
import os
import re
import secrets
import subprocess
import sys
from decimal import Decimal

import boto3
from boto3.dynamodb.types import Binary


# The metrics of every run (src/export/metrics.cpp), as EMF records and PutMetricData name them.
METRIC_NAMES = {"EventsRead", "EventsDelivered", "EventsRejected", "EventsUndeliverable", "Clients", "Objects",
                "Bytes", "DurationMs", "EventsPerSecond", "PeakRssBytes", "Retries", "ConsumedReadCapacity",
                "HoursExported", "HoursFailed", "HoursStopped", "SourceShrank", "Redelivered",
                "ReportsFailed"}


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


class Number(Decimal):
    """A number that remembers the exact text it was read from (`text`): the digit string DynamoDB
    returned (deserialize) or the token in the exported JSON (load_exported). It still compares and
    computes as a Decimal, but same_value compares its text."""
    __slots__ = ("text",)

    def __new__(cls, text):
        self = super().__new__(cls, text)
        self.text = text
        return self


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_DECIMAL_TEXT = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?([eE][+-]?[0-9]+)?\Z")


def json_number_text(stored):
    """The text the exporter writes for a DynamoDB number stored as `stored`: the same characters when
    they form a JSON number (RFC 8259) — DynamoDB's own normal form always does — else the smallest
    rewrite that does (moto keeps a number as the writer sent it, e.g. "+5", ".5", "5.", "007"): no
    '+' sign, leading zeros of the integer part dropped ("0" when none is left), a fraction only when it
    has digits, the exponent as written (src/core/json_text_internal.h, write_json_number)."""
    if _JSON_NUMBER.match(stored):
        return stored
    m = _DECIMAL_TEXT.match(stored)
    if not m or (not m.group(2) and not m.group(3)):
        raise ValueError(f"not a DynamoDB number: {stored!r}")
    sign, int_digits, frac, exponent = m.group(1), m.group(2), m.group(3) or "", m.group(4) or ""
    int_digits = int_digits.lstrip("0") or "0"
    return ("-" if sign == "-" else "") + int_digits + ("." + frac if frac else "") + exponent


def _number_mismatch(expected, exported, path):
    if isinstance(exported, bool) or not isinstance(exported, Number):
        return f"{path}: number {getattr(expected, 'text', expected)} exported as {exported!r:.100}"
    if not isinstance(expected, Number):
        return (f"{path}: the expected number {expected} carries no stored digits: read items with "
                f"read_item/read_table (deserialize), not boto3's resource API")
    want = json_number_text(expected.text)
    return None if exported.text == want else f"{path}: number {exported.text} != stored {expected.text} (want {want})"


def same_value(expected, exported, path="item"):
    """Compares the stored view of a value (expected, from read_item/deserialize) with the exported
    JSON (loaded by load_exported). Numbers compare as text: the exported token must be exactly the
    digit string DynamoDB returned (json_number_text), so 1.50 exported as 1.5 or 1E+2 as 100 is a
    mismatch. Binary compares as base64 text, sets as multisets. Returns a list of mismatches."""
    if isinstance(expected, Binary) or isinstance(expected, (bytes, bytearray)):
        raw = expected.value if isinstance(expected, Binary) else bytes(expected)
        want = base64.b64encode(raw).decode()
        return [] if exported == want else [f"{path}: binary {want!r} != {exported!r}"]
    if isinstance(expected, set):
        if not isinstance(exported, list):
            return [f"{path}: set exported as {type(exported).__name__}"]
        if expected and all(isinstance(v, Decimal) for v in expected):  # a number set: digits as text
            if any(isinstance(v, bool) or not isinstance(v, Number) for v in exported):
                return [f"{path}: number set exported as {exported!r:.200}"]
            if not all(isinstance(v, Number) for v in expected):
                return [f"{path}: the expected number set carries no stored digits: read items with "
                        f"read_item/read_table (deserialize), not boto3's resource API"]
            want = sorted(json_number_text(v.text) for v in expected)
            got = sorted(v.text for v in exported)
            return [] if want == got else [f"{path}: number set {want} != {got}"]
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
        problem = _number_mismatch(expected, exported, path)
        return [problem] if problem else []
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
    """Exported JSON with every number a Number holding its token exactly as written."""
    return json.loads(body, parse_float=Number, parse_int=Number)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def deserialize(av):
    """A DynamoDB attribute value (low-level client form) as Python values, numbers as Number (a Decimal
    that keeps the digit string the server returned). boto3's own TypeDeserializer caps precision at 38
    digits, raises on the expanded forms some servers return (dynalite stores 1E+125 as 126 digits) and
    forgets how the digits were written, so the comparison uses this one."""
    (kind, v), = av.items()
    if kind == "S":
        return v
    if kind == "N":
        return Number(v)
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
        return {Number(x) for x in v}
    if kind == "BS":
        return {Binary(x) for x in v}
    raise ValueError(f"unknown DynamoDB type {kind}")


_read_item_clients = {}


def read_item(env, table_name, key):
    """One item (consistent GetItem, low-level client), deserialized. The client is made once per env
    file: making a boto3 client costs ~0.1 s, which made per-item reads of a few hundred items a minute."""
    client = _read_item_clients.get(env["_env_file"])
    if client is None:
        client = _read_item_clients[env["_env_file"]] = dynamodb_client(env)
    item = client.get_item(TableName=table_name, Key=key, ConsistentRead=True)["Item"]
    return {k: deserialize(v) for k, v in item.items()}


def dynamodb_client(env):
    """The low-level DynamoDB client: items in DynamoDB JSON, numbers as the server's digit strings."""
    return session(env).client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])


def read_table(env, table_name, id_attr="eventId"):
    """Every item of the table (consistent Scan, low-level client) as {id: deserialized item}."""
    client = dynamodb_client(env)
    out = {}
    for page in client.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        for item in page["Items"]:
            value = deserialize(item[id_attr])
            out[value.text if isinstance(value, Number) else value] = {k: deserialize(v) for k, v in item.items()}
    return out


def batch_put_raw(env, table_name, items):
    """Writes items given in DynamoDB JSON (low-level form, numbers exactly as written) in batches of 25,
    resending what the server leaves unprocessed."""
    client = dynamodb_client(env)
    for i in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]
        while requests:
            left = client.batch_write_item(RequestItems={table_name: requests}).get("UnprocessedItems", {})
            requests = left.get(table_name, [])


def decompress(body, compression):
    """An object's bytes decompressed by tools independent of the exporter: Python's gzip module, and
    the zstd command-line program (Debian package zstd) or else python3-zstandard."""
    if compression == "none":
        return body
    if compression == "gzip":
        import gzip
        return gzip.decompress(body)
    if compression == "zstd":
        import shutil
        zstd = shutil.which("zstd")
        if zstd:
            proc = subprocess.run([zstd, "-q", "-d", "-c"], input=body, capture_output=True, timeout=120)
            if proc.returncode != 0:
                raise AssertionError(f"zstd -d failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
            return proc.stdout
        try:
            import zstandard
        except ImportError:
            raise AssertionError("no zstd decoder: install Debian's zstd (or python3-zstandard)")
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    raise ValueError(f"unknown compression {compression}")


FORMAT_EXTENSION = {"json": ".json", "ndjson": ".ndjson", "csv": ".csv"}
COMPRESSION_EXTENSION = {"none": "", "gzip": ".gz", "zstd": ".zst"}
CONTENT_TYPE = {"json": "application/json", "ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


def object_key(hour, fmt="json", compression="none"):
    """events-YYYY-MM-DD-HH.<ext>[.gz|.zst] for hour as a datetime or "YYYY-MM-DDTHH"."""
    label = hour if isinstance(hour, str) else hour.strftime("%Y-%m-%dT%H")
    return f"events-{label.replace('T', '-')}{FORMAT_EXTENSION[fmt]}{COMPRESSION_EXTENSION[compression]}"


def json_events(text, fmt):
    """The events of an uncompressed json or ndjson object, checking the exporter's layout (json: "[",
    one event per line joined by ",", "]"; ndjson: one event per line), numbers as Number."""
    if fmt == "json":
        if text == "[]\n":
            return []
        check(text.startswith("[\n") and text.endswith("\n]\n"), f"json object layout: {text[:80]!r}...{text[-80:]!r}")
        lines = text[2:-3].split(",\n")
    else:
        check(text == "" or text.endswith("\n"), "ndjson object must end with a newline")
        lines = text.split("\n")[:-1]
    events = [load_exported(line) for line in lines]
    if fmt == "json":
        check(len(load_exported(text)) == len(events), "json: the array's element count differs from its lines")
    return events
