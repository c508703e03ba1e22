"""A small stand-in for the Lambda Runtime API (version 2018-06-01), for tests.

It serves a fixed list of invocations on a free 127.0.0.1 port, records what the runtime posts back
(responses, invocation errors, init errors), and once the list is used up answers no more: the next
`GET /runtime/invocation/next` waits until the server stops, which is how Lambda freezes an idle
environment. The test then ends the runtime process itself.

    runtime = FakeLambdaRuntime([Invocation("id-1", '{"hour":"2026-11-29T10"}')])
    runtime.start()                       # runtime.address is the AWS_LAMBDA_RUNTIME_API value
    ...start the runtime with AWS_LAMBDA_RUNTIME_API=runtime.address...
    runtime.wait_for(["id-1"], timeout=120)
    runtime.results["id-1"]               # Result(kind="response"|"error", body, error_type)
    runtime.stop()

Reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""
import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/2018-06-01"
_RESULT_PATH = re.compile(rf"^{API}/runtime/invocation/([^/]+)/(response|error)$")


@dataclass
class Invocation:
    request_id: str
    payload: str
    deadline_in_ms: int = 600_000  # Lambda-Runtime-Deadline-Ms = the time it is served + this
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:eaglesense-test"
    trace_id: str = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"


@dataclass
class Result:
    kind: str  # "response" or "error"
    body: str
    error_type: str = ""  # the Lambda-Runtime-Function-Error-Type header of an error
    served_at: float = 0.0
    answered_at: float = field(default_factory=time.time)

    def json(self):
        return json.loads(self.body)


class FakeLambdaRuntime:
    def __init__(self, invocations):
        self._pending = list(invocations)
        self._served = {}
        self.results = {}
        self.init_errors = []
        self.idle_next_calls = 0
        self.unknown_requests = []
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    @property
    def address(self):
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self):
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: the test prints what matters
                pass

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != f"{API}/runtime/invocation/next":
                    runtime._unknown("GET", self.path)
                    return self._reply(404, b'{"errorMessage":"unknown path"}')
                invocation = runtime._next()
                if invocation is None:
                    # Idle: hold the request until the server stops (the process is killed first).
                    runtime._stopping.wait()
                    self.close_connection = True
                    return
                deadline = int(time.time() * 1000) + invocation.deadline_in_ms
                self._reply(200, invocation.payload.encode(), [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn),
                    ("Lambda-Runtime-Trace-Id", invocation.trace_id),
                ])

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type", "")
                if self.path == f"{API}/runtime/init/error":
                    runtime._record_init_error(Result("error", body, error_type))
                    return self._reply(202, b'{"status":"OK"}')
                m = _RESULT_PATH.match(self.path)
                if not m or not runtime._record(m.group(1), Result(m.group(2), body, error_type)):
                    runtime._unknown("POST", self.path)
                    return self._reply(400, b'{"errorMessage":"unknown or already answered request id"}')
                self._reply(202, b'{"status":"OK"}')

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, request_ids, timeout, alive=lambda: True):
        """Waits until every id has a result. Returns the ids still missing (empty: all answered).
        alive() is polled: when it turns False (the runtime process died) waiting stops."""
        end = time.time() + timeout
        with self._lock:
            while True:
                missing = [i for i in request_ids if i not in self.results]
                if not missing or time.time() >= end or not alive():
                    return missing
                self._lock.wait(0.2)

    def wait_for_init_error(self, timeout, alive=lambda: True):
        end = time.time() + timeout
        with self._lock:
            while not self.init_errors and time.time() < end and alive():
                self._lock.wait(0.2)
            return self.init_errors[0] if self.init_errors else None

    # --- called from request threads ---

    def _next(self):
        with self._lock:
            if not self._pending:
                self.idle_next_calls += 1
                self._lock.notify_all()
                return None
            invocation = self._pending.pop(0)
            self._served[invocation.request_id] = time.time()
            return invocation

    def _record(self, request_id, result):
        with self._lock:
            if request_id not in self._served or request_id in self.results:
                return False
            result.served_at = self._served[request_id]
            self.results[request_id] = result
            self._lock.notify_all()
            return True

    def _record_init_error(self, result):
        with self._lock:
            self.init_errors.append(result)
            self._lock.notify_all()

    def _unknown(self, method, path):
        with self._lock:
            self.unknown_requests.append(f"{method} {path}")


# --- the runtime process, started as Lambda starts a function ---------------------------------------

def lambda_environment(runtime, function_name, region, credentials, task_root):
    """What Lambda sets for a provided.al2023 function served by runtime: the Runtime API's address, the
    function's name, version, memory and logs, the region, the execution environment, the task root
    and the credentials (a mapping with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, when present,
    AWS_SESSION_TOKEN). The function's own settings are added by the caller."""
    variables = {
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/29/[$LATEST]0123456789abcdef",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_ACCESS_KEY_ID": credentials["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": credentials["AWS_SECRET_ACCESS_KEY"],
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": task_root,
        "_HANDLER": "bootstrap",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    }
    if credentials.get("AWS_SESSION_TOKEN"):
        variables["AWS_SESSION_TOKEN"] = credentials["AWS_SESSION_TOKEN"]
    return variables


def env_command(variables, command):
    """command run with exactly these environment variables (env -i), as Lambda runs a bootstrap."""
    return ["env", "-i"] + [f"{k}={v}" for k, v in variables.items()] + list(command)


def stop_process(proc):
    """Ends a runtime process: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def serve(runtime, proc, request_ids, timeout, idle_timeout=30):
    """Waits until every id is answered, then until proc asks for the next event once more (idle: the
    last answer's acknowledgement has reached it), then ends proc and the runtime. Returns (the ids
    still missing, whether proc was still running once idle)."""
    try:
        missing = runtime.wait_for(request_ids, timeout=timeout, alive=lambda: proc.poll() is None)
        idle_by = time.time() + idle_timeout
        while not missing and runtime.idle_next_calls == 0 and time.time() < idle_by and proc.poll() is None:
            time.sleep(0.05)
        running = proc.poll() is None
    finally:
        stop_process(proc)
        runtime.stop()
    return missing, running
