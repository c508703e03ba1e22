"""Shared code of the fault-injection suite (tests/fault): the session the fixture prepared, the two
fault-injecting mitmproxy instances, per-case buckets, running build/eaglesense through the proxies,
and comparing what landed in S3 with the fault-free reference run.

Run by Debian's /usr/bin/python3 (boto3 from python3-boto3). boto3 ignores AWS_ENDPOINT_URL_*, so every
client gets its endpoint explicitly; the checks always talk to the servers directly, never through a
proxy, so no fault can hide or fake a result.
"""
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
ADDON = os.path.join(os.path.dirname(HERE), "fault_addon.py")
HOUR = "2026-11-29T10"
OBJECT_KEY = "events-2026-11-29-10.json"
MANIFEST_KEY = "manifests/2026/11/29/10.json"
REJECTED_KEY = "rejected/events-2026-11-29-10.json"
CLIENTS = [f"client-{i:03d}" for i in range(6)]
MAX_ATTEMPTS = 4  # AWS_MAX_ATTEMPTS for every run of the suite: a transient fault (2 failures) heals
RUN_TIMEOUT_S = 120


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class CheckFailed(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


# --- the session (written by fault_fixture.py start) -----------------------------------------------

BACKENDS = ["local", "moto"]  # local: dynalite + s3rver; moto: moto_server (checks SigV4 signatures)


def state_dir(build_dir, backend):
    """Each backend's fault session has its own servers and state: <build>/local-aws/fault-<backend>
    (never the integration tests' <build>/local-aws/<backend>)."""
    return os.path.join(build_dir, "local-aws", f"fault-{backend}")


def session_path(build_dir, backend):
    return os.path.join(state_dir(build_dir, backend), "session.json")


def load_session(build_dir, backend):
    path = session_path(build_dir, backend)
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run through ctest (the fault.{backend}.setup fixture writes it)")
    with open(path) as f:
        return json.load(f)


def read_env_file(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                values[k] = v
    return values


def s3_client(env):
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env.get("AWS_REGION", "us-east-1"),
    ).client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"],
             config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}))


def dynamodb_client(env):
    return boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env.get("AWS_REGION", "us-east-1"),
    ).client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"])


# --- buckets and S3 state ---------------------------------------------------------------------------

def new_prefix(tag):
    # Bucket names: at most 63 characters; "{prefix}-client-000" must fit.
    return f"fx-{re.sub('[^a-z0-9]', '', tag.lower())[:20]}-{secrets.token_hex(3)}"


def create_buckets(s3, prefix, clients=CLIENTS, missing=()):
    """The case's client buckets and ops bucket; the clients in `missing` get no bucket."""
    for b in [f"{prefix}-{c}" for c in clients if c not in missing] + [f"{prefix}-ops"]:
        s3.create_bucket(Bucket=b)


def bucket_exists(s3, bucket):
    try:
        s3.head_bucket(Bucket=bucket)
        return True
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
            return False
        raise


def delete_buckets(s3, prefix, clients=CLIENTS):
    for b in [f"{prefix}-{c}" for c in clients] + [f"{prefix}-ops"]:
        try:
            for key in list_keys(s3, b):
                s3.delete_object(Bucket=b, Key=key)
            s3.delete_bucket(Bucket=b)
        except Exception:  # noqa: BLE001 - tidying only
            pass


def list_keys(s3, bucket):
    keys = []
    token = None
    while True:
        args = {"Bucket": bucket}
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


class Snapshot(dict):
    """{"client-000": {key: bytes}, ..., "ops": {key: bytes}} of one case's buckets, with .prefix."""

    def __init__(self, prefix):
        super().__init__()
        self.prefix = prefix


def snapshot(s3, prefix, clients=CLIENTS, missing=()):
    """Every object of the case's buckets. A client in `missing` has no bucket (the case made none):
    that is checked, and its entry is empty."""
    out = Snapshot(prefix)
    for name in list(clients) + ["ops"]:
        bucket = f"{prefix}-{name}"
        if name in missing:
            check(not bucket_exists(s3, bucket), f"{bucket} exists: a run created a bucket")
            out[name] = {}
            continue
        out[name] = {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in list_keys(s3, bucket)}
    return out


# --- the reference ----------------------------------------------------------------------------------

class Reference:
    """The fault-free run's results, saved by the fixture under <state>/reference."""

    def __init__(self, directory):
        self.dir = directory
        with open(os.path.join(directory, "summary.json")) as f:
            self.summary = json.load(f)
        with open(os.path.join(directory, "manifest.json"), "rb") as f:
            self.manifest = json.loads(f.read())
        rejected = os.path.join(directory, "rejected.json")
        self.rejected = None
        if os.path.exists(rejected):
            with open(rejected, "rb") as f:
                self.rejected = f.read()
        with open(os.path.join(directory, "prefix")) as f:
            self.prefix = f.read().strip()
        self.objects = {}
        self.clients = sorted(n[: -len(".json")] for n in os.listdir(os.path.join(directory, "objects")))
        for c in self.clients:
            with open(os.path.join(directory, "objects", f"{c}.json"), "rb") as f:
                self.objects[c] = f.read()
        self.events_of = {e["client"]: e["events"] for e in self.manifest["objects"]}

    def same_rejected(self, body, prefix):
        """The rejected object names the bucket a bad client id would have formed, so it holds the
        bucket prefix: compared with the prefix masked."""
        if body is None or self.rejected is None:
            return body is None and self.rejected is None
        return body.replace(prefix.encode(), b"<prefix>") == self.rejected.replace(self.prefix.encode(), b"<prefix>")

    @staticmethod
    def save(directory, summary, manifest_bytes, rejected_bytes, objects, prefix):
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.makedirs(os.path.join(directory, "objects"))
        with open(os.path.join(directory, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        with open(os.path.join(directory, "manifest.json"), "wb") as f:
            f.write(manifest_bytes)
        if rejected_bytes is not None:
            with open(os.path.join(directory, "rejected.json"), "wb") as f:
                f.write(rejected_bytes)
        with open(os.path.join(directory, "prefix"), "w") as f:
            f.write(prefix + "\n")
        for c, body in objects.items():
            with open(os.path.join(directory, "objects", f"{c}.json"), "wb") as f:
                f.write(body)


def check_complete(snap, ref, summary=None, allow_undeliverable_leftovers=False):
    """The hour's complete, fault-free result: every client object byte-identical to the reference,
    the rejected object identical, a manifest whose per-client figures and sha256 match the reference,
    and (for a run that just completed) the summary's accounting."""
    for c in ref.clients:
        body = snap[c].get(OBJECT_KEY)
        check(body is not None, f"{c}: object {OBJECT_KEY} missing")
        check(body == ref.objects[c], f"{c}: object differs from the reference ({len(body)} vs "
                                      f"{len(ref.objects[c])} bytes)")
        extra = set(snap[c]) - {OBJECT_KEY}
        check(not extra, f"{c}: unexpected objects {sorted(extra)}")
    ops = snap["ops"]
    check(ref.same_rejected(ops.get(REJECTED_KEY), snap.prefix), "rejected object differs from the reference")
    check(MANIFEST_KEY in ops, "manifest missing")
    manifest = json.loads(ops[MANIFEST_KEY])
    for field in ["events_read", "events_delivered", "events_rejected", "events_undeliverable"]:
        check(manifest[field] == ref.manifest[field], f"manifest {field} {manifest[field]} != {ref.manifest[field]}")
    by_client = {e["client"]: e for e in manifest["objects"]}
    check(sorted(by_client) == ref.clients, f"manifest clients {sorted(by_client)}")
    for want in ref.manifest["objects"]:
        got = by_client[want["client"]]
        check(got["status"] == "delivered", f"manifest: {want['client']} is {got['status']}")
        check(got["sha256"] == want["sha256"] == hashlib.sha256(ref.objects[want["client"]]).hexdigest(),
              f"manifest sha256 of {want['client']} differs")
        for field in ["key", "events", "bytes", "min_time", "max_time"]:
            if field in want:
                check(got.get(field) == want[field], f"manifest {field} of {want['client']}: {got.get(field)} != {want[field]}")
    leftovers = [k for k in ops if k.startswith("undeliverable/")]
    if not allow_undeliverable_leftovers:
        check(not leftovers, f"unexpected undeliverable objects {leftovers}")
    other = set(ops) - {REJECTED_KEY, MANIFEST_KEY} - set(leftovers)
    check(not other, f"unexpected ops objects {sorted(other)}")
    if summary is not None:
        check_summary_complete(summary, ref)
    return manifest


def check_accounting(summary):
    check(summary["events_read"] == summary["events_delivered"] + summary["events_rejected"] +
          summary["events_undeliverable"], f"accounting broken: {summary_line(summary)}")


def check_summary_complete(summary, ref):
    check_accounting(summary)
    for field in ["events_read", "events_delivered", "events_rejected"]:
        check(summary[field] == ref.summary[field], f"summary {field} {summary[field]} != {ref.summary[field]}")
    check(summary["events_undeliverable"] == 0, f"undeliverable: {summary_line(summary)}")


def check_partial_objects_match(snap, ref):
    """After a failed or killed run: whatever client object exists is already the final bytes."""
    for c in ref.clients:
        for key, body in snap[c].items():
            check(key == OBJECT_KEY, f"{c}: unexpected object {key}")
            check(body == ref.objects[c], f"{c}: object left by the failed run differs from the reference")
    if REJECTED_KEY in snap["ops"]:
        check(ref.same_rejected(snap["ops"][REJECTED_KEY], snap.prefix),
              "rejected object left by the failed run differs")


def summary_line(s):
    if not s:
        return "no summary"
    return (f"read {s['events_read']} = delivered {s['events_delivered']} + rejected {s['events_rejected']} + "
            f"undeliverable {s['events_undeliverable']}")


# --- the proxies ------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


def stop_process_group(pid, marker):
    """SIGTERM to the process group we started (pid leads it: start_new_session), then SIGKILL. The
    command line is checked first so that a reused PID is never signalled."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if marker.encode() not in f.read():
                return
    except OSError:
        return
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 3.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + wait_s
        while time.time() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


class Proxies:
    """A DynamoDB proxy and an S3 proxy (mitmdump + fault_addon.py) in front of the session's servers,
    sharing one fault plan file. Each test driver starts its own pair: own ports, own plan, own logs."""

    def __init__(self, session, name):
        self.session = session
        self.dir = os.path.join(session["state_dir"], "proxies", name)
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        self.plan = os.path.join(self.dir, "plan.json")
        self.write_plan([], "start")
        self.procs = {}
        self.ports = {}
        self.logs = {}

    def start(self):
        env = read_env_file(self.session["env_file"])
        for service, upstream in (("dynamodb", env["AWS_ENDPOINT_URL_DYNAMODB"]),
                                  ("s3", env["AWS_ENDPOINT_URL_S3"])):
            self._start_one(service, upstream)
        return self

    def _start_one(self, service, upstream):
        self.logs[service] = os.path.join(self.dir, f"{service}-requests.jsonl")
        confdir = os.path.join(self.dir, "mitmproxy-conf")
        os.makedirs(confdir, exist_ok=True)
        for attempt in range(1, 4):
            port = free_port()
            cmd = ["mitmdump", "--mode", f"reverse:{upstream}", "--listen-host", "127.0.0.1",
                   "--listen-port", str(port), "-s", ADDON,
                   "--set", f"fault_service={service}", "--set", f"fault_plan={self.plan}",
                   "--set", f"fault_log={self.logs[service]}", "--set", f"confdir={confdir}",
                   "--set", "keep_host_header=true", "--set", "flow_detail=0",
                   "--set", "termlog_verbosity=warn", "--set", "connection_strategy=lazy"]
            out = open(os.path.join(self.dir, f"{service}-mitmdump.log"), "ab")
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            out.close()
            with open(os.path.join(self.dir, f"{service}.pid"), "w") as f:
                f.write(str(proc.pid))
            deadline = time.time() + 30
            while time.time() < deadline and proc.poll() is None:
                if self._probe(service, port):
                    self.procs[service] = proc
                    self.ports[service] = port
                    return
                time.sleep(0.1)
            stop_process_group(proc.pid, "fault_addon.py")
            log(f"{service} proxy did not come up on port {port} (attempt {attempt})")
        raise RuntimeError(f"could not start the {service} proxy; see {self.dir}/{service}-mitmdump.log")

    @staticmethod
    def _probe(service, port):
        url = f"http://127.0.0.1:{port}/"
        if service == "dynamodb":
            req = urllib.request.Request(url, data=b"{}", method="POST", headers={
                "X-Fault-Probe": "1", "X-Amz-Target": "DynamoDB_20120810.ListTables",
                "Content-Type": "application/x-amz-json-1.0"})
        else:
            req = urllib.request.Request(url, method="GET", headers={"X-Fault-Probe": "1"})
        try:
            with urllib.request.urlopen(req, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the proxy and its upstream are up
        except OSError:
            return False

    def stop(self):
        for proc in self.procs.values():
            stop_process_group(proc.pid, "fault_addon.py")
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs = {}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def endpoints(self):
        return {"AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{self.ports['dynamodb']}",
                "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{self.ports['s3']}"}

    def write_plan(self, rules, tag, record_headers=None, shims=None):
        """The proxies' fault plan (fault_addon.py): `rules`; optionally `record_headers`, a path
        regular expression whose requests get their headers logged, and `shims`, answer rewrites."""
        plan = {"generation": f"{tag}-{secrets.token_hex(4)}", "rules": rules}
        if record_headers:
            plan["record_headers"] = record_headers
        if shims:
            plan["shims"] = list(shims)
        text = json.dumps(plan, indent=1)
        tmp = self.plan + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.plan)

    def log_offsets(self):
        return {s: (os.path.getsize(p) if os.path.exists(p) else 0) for s, p in self.logs.items()}

    def requests_since(self, offsets, consumed=None):
        """{service: [record, ...]} logged by the proxies since log_offsets(). A line a proxy is still
        writing (no newline yet) is left for the next read: read while the run goes on, the log can
        end mid-record (seen once, in fault.crash). `consumed`, when given, receives each log's
        offset past the last complete line read: where the next call should start."""
        out = {}
        for s, p in self.logs.items():
            out[s] = []
            start = offsets.get(s, 0)
            if consumed is not None:
                consumed[s] = start
            if not os.path.exists(p):
                continue
            with open(p, "rb") as f:
                f.seek(start)
                data = f.read()
            complete = data[: data.rfind(b"\n") + 1]
            if consumed is not None:
                consumed[s] = start + len(complete)
            for line in complete.decode().splitlines():
                if line.strip():
                    out[s].append(json.loads(line))
        return out


# --- running the exporter ---------------------------------------------------------------------------

def exporter_env(session, endpoints, prefix, extra=None):
    env = read_env_file(session["env_file"])
    child = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "DYNAMODB_TABLE_NAME": session["table"],
        "S3_BUCKET_PREFIX": prefix,
        "LOG_LEVEL": "info",
    }
    child.update(endpoints)
    child.update(extra or {})
    return child


class RunResult:
    def __init__(self, rc, stdout, stderr, seconds):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
        try:
            self.summary = json.loads(stdout) if stdout.strip() else None
        except ValueError:
            self.summary = None

    def error_codes(self):
        """The AWS error codes the exporter logged (retries and final errors), in order, deduplicated."""
        codes = []
        for line in self.stderr.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            code = rec.get("code")
            if not code:
                m = re.search(r": ([A-Za-z0-9]+): ", rec.get("error", ""))
                code = m.group(1) if m else None
            if code and code not in codes:
                codes.append(code)
        return codes

    def retries_logged(self):
        count = 0
        for line in self.stderr.splitlines():
            if '"aws.retry"' in line:
                count += 1
        return count

    def curl_errors(self):
        return sorted(set(re.findall(r"curl error (\d+)", self.stderr)))

    def describe(self):
        return f"exit {self.rc} in {self.seconds:.1f}s; {summary_line(self.summary)}\nstderr tail:\n" + \
            "\n".join(self.stderr.splitlines()[-6:])


def run_exporter(session, endpoints, prefix, extra=None):
    started = time.time()
    proc = subprocess.run([session["binary"], "run", "--hour", HOUR],
                          env=exporter_env(session, endpoints, prefix, extra),
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    return RunResult(proc.returncode, proc.stdout, proc.stderr, time.time() - started)


# --- results ----------------------------------------------------------------------------------------

def results_dir(build_dir):
    return os.path.join(build_dir, "fault-results")


def results_name(backend, name):
    """Results files are per backend, so that one backend's fixture clears only its own."""
    return f"{backend}-{name}"


def write_results(build_dir, name, payload):
    d = results_dir(build_dir)
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, f".{name}.json.tmp")
    with open(tmp, "w") as f:
        json.dump(payload, f, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(d, f"{name}.json"))
