"""End to end: `eaglesense status` over a week of hours in the ops bucket of the local servers.

Two hours are exported by the real exporter (clients alpha and beta have buckets, gamma has none: its
objects are undeliverable). The other hours' manifests are written directly, shaped like the exporter's
own (its first manifest is the template): one hour where beta was undeliverable, one revised hour
(revision 2, late_events), one hour without anything (missing), one hour with a live lease (in progress)
and one with an expired lease (failed). Then:

- `status --format json`: every hour's state, the revised hour's revision, each client's totals and the
  hours in which it was undeliverable, and the exit code (1: an hour is missing or failed);
- `status` (the table): the same facts in its lines;
- exit codes over sub-ranges: 0 (complete and delivered), 3 (undeliverable events remain), 0 for an hour
  in progress, 1 for a failed one;
- `status --format html --output`: the page is loaded by a real headless browser (Debian's chromium),
  whose DOM must have the missing column, the revised mark, the undeliverable cells and each client's
  row; a screenshot is written under the build directory for a person to look at.
"""
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from es_harness import batch_put_raw, binary_path, check, dynamodb_client, load_env, run_eaglesense, s3, unique  # noqa: E402

UTC = dt.timezone.utc
env = load_env()
backend = os.path.basename(os.path.dirname(os.path.abspath(env["_env_file"])))
build_dir = os.path.dirname(os.path.abspath(binary_path(env)))

# The browser first: without it the HTML cannot be checked, and that is a failure, not a skip.
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    sys.exit("status_test: the 'chromium' command is missing, so the HTML report cannot be checked in a browser. "
             "Install Debian's package: apt-get install -y chromium (scripts/setup.sh installs it; it is listed in "
             "scripts/lib/packages.txt)")

s3c = s3(env)
ddb = dynamodb_client(env)
prefix = unique("es-st")
ops = f"{prefix}-ops"
ddb.create_table(TableName=prefix, KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                 BillingMode="PAY_PER_REQUEST")
ddb.get_waiter("table_exists").wait(TableName=prefix)
for bucket in [ops, f"{prefix}-alpha", f"{prefix}-beta"]:  # gamma has no bucket
    s3c.create_bucket(Bucket=bucket)
settings = {"DYNAMODB_TABLE_NAME": prefix, "S3_BUCKET_PREFIX": prefix, "EAGLESENSE_SEGMENTS": "2"}

W0 = dt.datetime(2026, 11, 9, 0, tzinfo=UTC)
WEEK = [W0 + dt.timedelta(hours=i) for i in range(168)]
EXPORTED = [WEEK[100], WEEK[101]]
BETA_UNDELIVERABLE = WEEK[20]
REVISED = WEEK[60]
MISSING = WEEK[40]
IN_PROGRESS = WEEK[150]
FAILED = WEEK[151]


def label(hour):
    return hour.strftime("%Y-%m-%dT%H")


def iso(instant):
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def manifest_key(hour):
    return hour.strftime("manifests/%Y/%m/%d/%H.json")


def object_key(hour):
    return hour.strftime("events-%Y-%m-%d-%H.json")


# ---- two hours exported by the real exporter ------------------------------------------------------------
items = []
for hour in EXPORTED:
    for client, n in (("alpha", 30), ("beta", 20), ("gamma", 10)):
        for i in range(n):
            items.append({"eventId": {"S": f"{label(hour)}-{client}-{i}"}, "clientId": {"S": client},
                          "time": {"S": iso(hour + dt.timedelta(seconds=i * 60))}, "n": {"N": str(i)}})
batch_put_raw(env, prefix, items)
summary = json.loads(run_eaglesense(env, ["run", "--from", label(EXPORTED[0]), "--to", label(EXPORTED[1])],
                                    settings, check_codes=(3,)).stdout)
check(summary["events_undeliverable"] == 20, f"gamma's events are undeliverable: {summary}")
template = json.loads(s3c.get_object(Bucket=ops, Key=manifest_key(EXPORTED[0]))["Body"].read())

# ---- the other hours: manifests shaped like the exporter's, written directly -----------------------------
expected_events = {"alpha": 60, "beta": 40, "gamma": 20}  # so far: the exported hours


def write_manifest(hour, i):
    m = json.loads(json.dumps(template))
    m["window"] = {"hour": label(hour), "start": iso(hour), "end": iso(hour + dt.timedelta(hours=1))}
    objects = []
    counts = {"events_delivered": 0, "events_undeliverable": 0}
    for client, events in (("alpha", 5 + i % 7), ("beta", 3 + i % 5)):
        o = {"client": client, "bucket": f"{prefix}-{client}", "key": object_key(hour), "status": "delivered",
             "events": events, "bytes": events * 90, "sha256": "0" * 64, "min_time": iso(hour),
             "max_time": iso(hour + dt.timedelta(minutes=events))}
        if hour == BETA_UNDELIVERABLE and client == "beta":
            o.update(status="undeliverable", error="AccessDenied",
                     undeliverable_key=f"undeliverable/beta/{object_key(hour)}")
        counts["events_" + o["status"]] += events
        expected_events[client] += events
        objects.append(o)
    m.update(objects=objects, events_rejected=1, rejected_key=f"rejected/{object_key(hour)}",
             events_read=counts["events_delivered"] + counts["events_undeliverable"] + 1, **counts)
    if hour == REVISED:
        m.update(revision=2, reason="late_events")
    s3c.put_object(Bucket=ops, Key=manifest_key(hour), Body=json.dumps(m, indent=1).encode())


for i, hour in enumerate(WEEK):
    if hour not in EXPORTED + [MISSING, IN_PROGRESS, FAILED]:
        write_manifest(hour, i)
now = dt.datetime.now(UTC)


def lease(hour, acquired, expires):
    body = {"run_id": f"run-{label(hour)}", "holder": "test-host/pid-1", "acquired_at": iso(acquired),
            "expires_at": iso(expires)}
    s3c.put_object(Bucket=ops, Key=f"locks/{label(hour)}.json", Body=json.dumps(body).encode())


lease(IN_PROGRESS, now - dt.timedelta(minutes=5), now + dt.timedelta(hours=2))
lease(FAILED, now - dt.timedelta(hours=3), now - dt.timedelta(hours=2))


def status(args, codes):
    return run_eaglesense(env, ["status", "--from", label(WEEK[0]), "--to", label(WEEK[-1])] + args, settings,
                          check_codes=codes)


# ---- JSON ------------------------------------------------------------------------------------------------
started = time.monotonic()
report = json.loads(status(["--format", "json"], (1,)).stdout)
elapsed = time.monotonic() - started
print(f"status --format json of 168 hours: {elapsed:.2f} s (the process, reading every manifest)")
states = {h["hour"]: h for h in report["hours"]}
check(list(states) == [label(h) for h in WEEK], "168 hours, oldest first")
want = {label(MISSING): "missing", label(IN_PROGRESS): "in_progress", label(FAILED): "failed",
        label(BETA_UNDELIVERABLE): "complete_undeliverable", label(EXPORTED[0]): "complete_undeliverable",
        label(EXPORTED[1]): "complete_undeliverable", label(REVISED): "complete", label(WEEK[0]): "complete"}
for hour, state in want.items():
    check(states[hour]["state"] == state, f"{hour}: {states[hour]} is not {state}")
check(states[label(REVISED)]["revised"] and states[label(REVISED)]["revision"] == 2, f"{states[label(REVISED)]}")
check(not states[label(WEEK[0])]["revised"], "a first export is not revised")
check(states[label(IN_PROGRESS)]["lock"]["run_id"] == f"run-{label(IN_PROGRESS)}", f"{states[label(IN_PROGRESS)]}")
check("expired" in states[label(FAILED)].get("note", ""), f"{states[label(FAILED)]}")
check(states[label(EXPORTED[0])]["undeliverable_clients"] == ["gamma"], f"{states[label(EXPORTED[0])]}")
check(report["hours_by_state"] == {"complete": 162, "complete_undeliverable": 3, "in_progress": 1, "failed": 1,
                                   "missing": 1}, f"{report['hours_by_state']}")
check(report["hours_revised"] == 1 and report["exit_code"] == 1, f"{report['hours_revised']} {report['exit_code']}")
clients = {c["client"]: c for c in report["client_totals"]}
check(sorted(clients) == ["alpha", "beta", "gamma"], f"{sorted(clients)}")
for client, events in expected_events.items():
    check(clients[client]["events"] == events, f"{client}: {clients[client]['events']} events, want {events}")
check(clients["gamma"]["undeliverable_hours"] == [label(h) for h in EXPORTED], f"{clients['gamma']}")
check(clients["gamma"]["events_undeliverable"] == 20 and clients["gamma"]["events_delivered"] == 0, f"{clients['gamma']}")
check(clients["beta"]["undeliverable_hours"] == [label(BETA_UNDELIVERABLE)], f"{clients['beta']}")
check(clients["alpha"]["undeliverable_hours"] == [], f"{clients['alpha']}")

# ---- the table -------------------------------------------------------------------------------------------
table = status([], (1,)).stdout
lines = {line.split()[0]: line for line in table.splitlines() if line.strip()}
check(" missing " in lines[label(MISSING)] + " ", f"table: {lines[label(MISSING)]}")
check("revised r2 (late_events)" in lines[label(REVISED)], f"table: {lines[label(REVISED)]}")
check("undeliverable: gamma" in lines[label(EXPORTED[0])], f"table: {lines[label(EXPORTED[0])]}")
check(" in_progress " in lines[label(IN_PROGRESS)] and " failed " in lines[label(FAILED)], "table: lease states")
check(lines["gamma"].endswith(f"{label(EXPORTED[0])}..{label(EXPORTED[1])}"), f"table: {lines['gamma']}")
check(lines["exit"].startswith("exit 1: 1 hour missing, 1 failed"), f"table: {lines['exit']}")

# ---- exit codes over parts of the week -------------------------------------------------------------------
def code_of(first, last):
    return run_eaglesense(env, ["status", "--from", label(first), "--to", label(last)], settings,
                          check_codes=(0, 1, 3)).returncode


check(code_of(WEEK[0], WEEK[10]) == 0, "complete and delivered: exit 0")
check(code_of(REVISED, REVISED) == 0, "a revised complete hour: exit 0")
check(code_of(EXPORTED[0], EXPORTED[1]) == 3, "undeliverable events remain: exit 3")
check(code_of(IN_PROGRESS, IN_PROGRESS) == 0, "an hour in progress: exit 0")
check(code_of(FAILED, FAILED) == 1, "a failed hour: exit 1")
check(code_of(MISSING, MISSING) == 1, "a missing hour: exit 1")

# ---- the HTML in a real browser --------------------------------------------------------------------------
page = os.path.join(build_dir, f"status-report-{backend}.html")
screenshot = os.path.join(build_dir, f"status-report-{backend}.png")
status(["--format", "html", "--output", page], (1,))
html = open(page, encoding="utf-8").read()
check(html.startswith("<!DOCTYPE html>") and "<script" not in html, "a static page")
with tempfile.TemporaryDirectory() as profile:
    browser = [chromium, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={profile}",
               "--no-first-run", "--disable-extensions"]
    dom = subprocess.run(browser + ["--dump-dom", f"file://{page}"], capture_output=True, text=True, timeout=180)
    check(dom.returncode == 0 and "</html>" in dom.stdout, f"chromium --dump-dom: {dom.returncode}\n{dom.stderr[-2000:]}")
    shot = subprocess.run(browser + [f"--screenshot={screenshot}", "--window-size=1400,1800", f"file://{page}"],
                          capture_output=True, text=True, timeout=180)
    check(shot.returncode == 0 and os.path.getsize(screenshot) > 10_000, f"chromium --screenshot: {shot.stderr[-2000:]}")
dom = dom.stdout
# What the browser parsed: one state mark per hour, the missing/lease columns, the revised mark, one
# undeliverable cell per undeliverable object, a row and a table line per client.
marks = dom.count('class="hs"')
check(marks == 168, f"state marks: {marks}")
for hour, state in ((MISSING, "missing"), (IN_PROGRESS, "in_progress"), (FAILED, "failed")):
    check(f'class="col" data-hour="{label(hour)}" data-state="{state}"' in dom, f"the {state} column of {label(hour)}")
check(f'class="rev" data-hour="{label(REVISED)}" data-revision="2"' in dom, "the revised mark")
undeliverable_cells = dom.count('<use href="#cell" class="u"')
check(undeliverable_cells == 3, f"undeliverable cells: {undeliverable_cells}")
cells = dom.count('<use href="#cell"')
check(cells == 2 * 163 + 3 * 2, f"a cell per object: {cells}")
check(f"s3://{prefix}-gamma/{object_key(EXPORTED[0])}" in dom, "gamma's object key in its cell's tooltip")
for client in ("alpha", "beta", "gamma"):
    check(f'<g class="row" data-client="{client}"' in dom and f'<tr data-client="{client}"' in dom, f"{client}'s row")
check('<p class="verdict exit-1" id="verdict">exit 1: 1 hour missing, 1 failed' in dom, "the verdict")
check(f'<tr class="state-missing" data-hour="{label(MISSING)}" data-state="missing"' in dom, "the missing hour's line")
print(f"status report of the week: {page} ({len(html)} bytes); screenshot: {screenshot}")
