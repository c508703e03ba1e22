"""mitmproxy addon (Debian's mitmproxy 8.1): injects faults between EagleSense and a local AWS server.

One mitmdump runs per service in reverse mode:

    mitmdump --mode reverse:http://127.0.0.1:PORT --listen-host 127.0.0.1 --listen-port P \
        -s tests/fault/fault_addon.py --set fault_service=dynamodb \
        --set fault_plan=/path/plan.json --set fault_log=/path/requests.jsonl

The fault plan is a JSON file, re-read on every request (it is small), so one proxy serves many
scenarios: the test driver rewrites it (atomically) between runs. Its rule counters restart whenever
the file's content changes (each plan carries a fresh "generation" string):

    {"generation": "case-17-3f9c",
     "rules": [{"name": "scan-500", "service": "dynamodb", "target": "Scan",
                "fault": "http500", "times": 2},
               {"name": "put-slow", "service": "s3", "method": "PUT", "path": "^/[^/]+-client-",
                "fault": "latency", "delay_s": 2, "times": null}]}

A rule matches a request when every condition it names holds: service (this proxy's fault_service),
target (DynamoDB: the operation of X-Amz-Target, e.g. "Scan"), method, path (a regular expression
searched in the path with its query), body (a regular expression searched in the request body, e.g.
"ExclusiveStartKey" for the pages after a Scan's first). The first matching rule that still has faults to give decides;
"times": N faults only its first N matching requests (transient), null faults all (persistent).

Faults (what the client sees):
  http500, http503   a hand-made error answer in the service's own format; the request never reaches
                     the server. DynamoDB: JSON with __type (InternalServerError /
                     ServiceUnavailableException) and a matching x-amz-crc32; S3: XML <Error>.
  throughput         DynamoDB 400 ProvisionedThroughputExceededException (JSON __type, as sent by AWS)
  throttling         DynamoDB 400 ThrottlingException
  slowdown           S3 503 <Code>SlowDown</Code>
  nosuchupload       S3 404 <Code>NoSuchUpload</Code> (what S3 answers a CompleteMultipartUpload of an
                     upload it no longer knows, e.g. one completed behind a lost answer)
  reset              the request reaches the server; the answer is cut by a TCP reset (SO_LINGER 0):
                     DynamoDB after the headers and half the body (the response is streamed), S3
                     (whose PUT answers have no body) before any byte of the answer, after the server
                     stored the object.
  truncated          the request reaches the server; the answer claims its full Content-Length but
                     only two thirds of the body are sent (S3: Content-Length 64, no body), then the
                     connection is closed cleanly (FIN).
  latency            the request waits delay_s seconds (default 2) in the proxy, then goes through.
  crc                DynamoDB: the server's answer with one byte of the body changed (a letter inside
                     the first string value, so the body stays valid JSON) and x-amz-crc32 kept.

Every request (except readiness probes carrying X-Fault-Probe) is logged as one JSON line to
fault_log: time, method, path, target, and the rule and fault applied, if any. The test drivers read
it to prove a fault was really injected and, in the crash test, to time a SIGKILL.

A plan may also ask for request headers to be recorded: "record_headers": "^/fx-[^/]*-client-"
(a regular expression searched in the path, like a rule's "path") adds "headers" to the log line of
every matching request: its x-amz-* headers (but x-amz-security-token), content-type and
content-md5, names in lower case. Recording only reads the request: nothing signed is changed, so a
signature-checking server (moto) still accepts it.

"shims": ["composite-checksum-suffix"] in a plan makes the S3 proxy answer a HeadObject/GetObject
of a multipart object the way S3 does: S3 gives its composite checksum as "<base64>-<parts>", moto
5.2.1 gives the same digest without the "-<parts>" (moto fixed it later, getmoto/moto#9849). When
the answer's ETag ends in "-N" and its x-amz-checksum-sha256 has no suffix, "-N" is appended, and
the change is logged ({"event": "shim", ...}). Answers are not signed: nothing else changes.
"""
import asyncio
import hashlib
import json
import logging
import re
import socket
import struct
import time
import uuid
import zlib

from mitmproxy import ctx, http

DYNAMODB_ERRORS = {
    "http500": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
    "http503": (503, "com.amazonaws.dynamodb.v20120810#ServiceUnavailableException",
                "The service is currently unavailable or busy."),
    "throughput": (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                   "The level of configured provisioned throughput for the table was exceeded. Consider "
                   "increasing your provisioning level with the UpdateTable API."),
    "throttling": (400, "com.amazon.coral.availability#ThrottlingException",
                   "Rate of requests exceeds the allowed throughput."),
}
S3_ERRORS = {
    "http500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "http503": (503, "ServiceUnavailable", "Please reduce your request rate."),
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "nosuchupload": (404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or "
                     "the upload may have been aborted or completed."),
}
ANSWERED_IN_PROXY = {"http500", "http503", "throughput", "throttling", "slowdown", "nosuchupload"}
AFTER_SERVER = {"reset", "truncated", "crc"}
KNOWN = ANSWERED_IN_PROXY | AFTER_SERVER | {"latency"}


class FaultInjector:
    def __init__(self):
        self.plan_text = None
        self.rules = []
        self.counts = []
        self.record_headers = None
        self.shims = []
        self.log_file = None

    def load(self, loader):
        loader.add_option("fault_service", str, "", "dynamodb or s3: the service behind this proxy")
        loader.add_option("fault_plan", str, "", "JSON fault plan, re-read on every request")
        loader.add_option("fault_log", str, "", "JSON lines: one per request seen")

    # --- plan ------------------------------------------------------------------------------------

    def refresh_plan(self):
        path = ctx.options.fault_plan
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            text = ""
        if text == self.plan_text:
            return
        self.plan_text = text
        rules = []
        self.record_headers = None
        self.shims = []
        if text.strip():
            try:
                plan = json.loads(text)
                rules = plan.get("rules", [])
                self.record_headers = plan.get("record_headers")
                self.shims = list(plan.get("shims") or [])
            except ValueError as e:
                logging.error(f"fault plan {path} is not JSON: {e}")
                rules = []
        for rule in rules:
            if rule.get("fault") not in KNOWN:
                logging.error(f"fault plan: unknown fault {rule.get('fault')!r}; rule ignored")
                rule["_ignored"] = True
        self.rules = rules
        self.counts = [0] * len(rules)

    def pick(self, flow):
        service = ctx.options.fault_service
        target = flow.request.headers.get("x-amz-target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        for i, rule in enumerate(self.rules):
            if rule.get("_ignored"):
                continue
            if rule.get("service") and rule["service"] != service:
                continue
            if rule.get("target") and rule["target"] != operation:
                continue
            if rule.get("method") and rule["method"].upper() != flow.request.method.upper():
                continue
            if rule.get("path") and not re.search(rule["path"], flow.request.path):
                continue
            if rule.get("body") and not re.search(rule["body"], flow.request.get_text(strict=False) or ""):
                continue
            times = rule.get("times")
            if times is not None and self.counts[i] >= times:
                continue
            self.counts[i] += 1
            return rule, self.counts[i]
        return None, 0

    def write_log(self, record):
        path = ctx.options.fault_log
        if not path:
            return
        if self.log_file is None:
            self.log_file = open(path, "a", encoding="utf-8")
        self.log_file.write(json.dumps(record, sort_keys=True) + "\n")
        self.log_file.flush()

    # --- hooks -----------------------------------------------------------------------------------

    async def request(self, flow: http.HTTPFlow):
        if flow.request.headers.get("x-fault-probe"):
            return
        self.refresh_plan()
        rule, nth = self.pick(flow)
        target = flow.request.headers.get("x-amz-target", "")
        record = {"t": time.time(), "method": flow.request.method, "path": flow.request.path,
                  "target": target.rsplit(".", 1)[-1] if target else "",
                  "rule": rule.get("name") if rule else None, "fault": rule["fault"] if rule else None,
                  "nth": nth}
        if self.record_headers and re.search(self.record_headers, flow.request.path):
            record["headers"] = recorded_headers(flow.request.headers)
        self.write_log(record)
        if not rule:
            return
        fault = rule["fault"]
        flow.metadata["fault"] = fault
        flow.metadata["fault_rule"] = rule.get("name")
        if fault == "latency":
            await asyncio.sleep(float(rule.get("delay_s", 2)))
        elif fault in ANSWERED_IN_PROXY:
            flow.response = self.error_response(fault)

    def responseheaders(self, flow: http.HTTPFlow):
        if flow.metadata.get("fault") != "reset" or ctx.options.fault_service != "dynamodb":
            return
        # Stream the answer: the headers and the first half of the body go out, the rest is dropped;
        # the response hook then kills the flow, which closes the connection (with a reset).
        length = int(flow.response.headers.get("content-length", "0") or 0)
        budget = [max(1, length // 2)]

        def first_half(chunk: bytes) -> bytes:
            keep = chunk[: budget[0]]
            budget[0] -= len(keep)
            return keep

        flow.response.stream = first_half

    def response(self, flow: http.HTTPFlow):
        if "composite-checksum-suffix" in self.shims and ctx.options.fault_service == "s3":
            self.composite_checksum_suffix(flow)
        fault = flow.metadata.get("fault")
        if fault not in AFTER_SERVER or flow.response is None:
            return
        service = ctx.options.fault_service
        if fault == "reset":
            rst = self.linger_zero(flow)
            self.write_log({"t": time.time(), "event": "reset", "rst": rst, "path": flow.request.path})
            flow.kill()
        elif fault == "truncated":
            body = flow.response.raw_content or b""
            if service == "dynamodb" and body:
                claimed, sent = len(body), body[: max(1, (len(body) * 2) // 3)]
            else:
                claimed, sent = len(body) + 64, body
            flow.response.raw_content = sent
            flow.response.headers["content-length"] = str(claimed)
            flow.response.headers["connection"] = "close"
        elif fault == "crc" and service == "dynamodb":
            body = flow.response.raw_content or b""
            if "x-amz-crc32" not in flow.response.headers:
                flow.response.headers["x-amz-crc32"] = str(zlib.crc32(body) & 0xFFFFFFFF)
            flow.response.raw_content = flip_one_byte(body)

    # --- helpers ---------------------------------------------------------------------------------

    def composite_checksum_suffix(self, flow):
        """S3's form of a multipart object's composite checksum: "<base64>-<parts>" (see the doc)."""
        response = flow.response
        if response is None or response.status_code != 200 or flow.request.method not in ("HEAD", "GET"):
            return
        m = re.fullmatch(r'"?[0-9a-fA-F]{32}-(\d+)"?', response.headers.get("etag", ""))
        checksum = response.headers.get("x-amz-checksum-sha256")
        if not m or not checksum or "-" in checksum:
            return
        response.headers["x-amz-checksum-sha256"] = f"{checksum}-{m.group(1)}"
        self.write_log({"t": time.time(), "event": "shim", "shim": "composite-checksum-suffix",
                        "path": flow.request.path, "from": checksum,
                        "to": response.headers["x-amz-checksum-sha256"]})

    @staticmethod
    def error_response(fault):
        request_id = uuid.uuid4().hex.upper()
        if ctx.options.fault_service == "dynamodb":
            status, error_type, message = DYNAMODB_ERRORS[fault]
            body = json.dumps({"__type": error_type, "message": message}).encode()
            return http.Response.make(status, body, {
                "Content-Type": "application/x-amz-json-1.0",
                "x-amzn-RequestId": request_id,
                "x-amz-crc32": str(zlib.crc32(body) & 0xFFFFFFFF),
            })
        status, code, message = S3_ERRORS[fault]
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}'
                f"</Message><RequestId>{request_id[:16]}</RequestId><HostId>"
                f"{hashlib.sha256(request_id.encode()).hexdigest()}</HostId></Error>").encode()
        return http.Response.make(status, body, {"Content-Type": "application/xml",
                                                 "x-amz-request-id": request_id[:16]})

    @staticmethod
    def linger_zero(flow):
        """Sets SO_LINGER 0 on the client's socket so that closing it sends a TCP RST. mitmproxy 8.1
        does not expose the socket to addons; it is reached through the proxyserver addon's live
        connection handlers (an internal structure: if it moves, the close is a plain FIN)."""
        try:
            server = ctx.master.addons.get("proxyserver")
            key = ("tcp", flow.client_conn.peername, flow.client_conn.sockname)
            handler = server._connections[key]
            writer = handler.transports[handler.client].writer
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return True
        except Exception as e:  # noqa: BLE001 - any failure only downgrades the reset to a FIN
            logging.warning(f"could not set SO_LINGER 0 ({e!r}): the connection closes with FIN")
            return False


def recorded_headers(headers) -> dict:
    """The request headers a test may assert on (lower-case names; a repeated header keeps its
    values joined by ", ")."""
    out = {}
    for name, value in headers.items(multi=True):
        name = name.lower()
        if (name.startswith("x-amz-") and name != "x-amz-security-token") or name in ("content-type", "content-md5"):
            out[name] = value if name not in out else out[name] + ", " + value
    return out


def flip_one_byte(body: bytes) -> bytes:
    """Changes one byte so that the body stays valid JSON: the case of the first letter inside the first
    string value ("S":"..."); else the last digit found; else the middle byte."""
    data = bytearray(body)
    m = re.search(rb'"S":"([^"\\]*?[A-Za-z])', data)
    if m:
        i = m.end(1) - 1
        data[i] ^= 0x20
        return bytes(data)
    for i in range(len(data) - 1, -1, -1):
        if 0x30 <= data[i] <= 0x39:
            data[i] = 0x30 + ((data[i] - 0x30 + 1) % 10)
            return bytes(data)
    if data:
        data[len(data) // 2] ^= 0x01
    return bytes(data)


addons = [FaultInjector()]
