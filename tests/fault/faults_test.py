"""Fault injection: `eaglesense run` through fault-injecting proxies (tests/fault/fault_addon.py).

    faults_test.py --build-dir B --group dynamodb|query|s3-client|s3-ops

Each group starts its own pair of proxies (DynamoDB and S3) in front of the session's local servers
and runs its cases one after another, each into fresh buckets:

  control     no fault: the result is byte-identical to the reference run made without a proxy.
  transient   the first 2 matching requests fail (AWS_MAX_ATTEMPTS=4): exit 0, every event delivered
              once, every client object, the rejected object and the manifest's per-client sha256
              identical to the reference, exactly 2 faults injected and 2 retries reported.
  persistent  every matching request fails:
                reads (DynamoDB)          exit 1, nothing written, no manifest;
                client uploads (S3)       exit 3, one client's events kept under undeliverable/ in
                                          the ops bucket with the very bytes of its object, the
                                          others delivered, read = delivered + rejected + undeliverable;
                the ops bucket (S3)       exit 1, no manifest, client objects already final;
              then the fault is removed and a rerun gives the complete, byte-identical result.
  latency     2-second delays are not errors: exit 0 and the identical result, transient or not.

Each case becomes a row of B/fault-results/<group>.json; fault_report.py turns them into the fault x
outcome table (B/fault-results.md, docs/RELIABILITY.md). Exit 0 when every case passed.
"""
import argparse
import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import fault_harness as fh  # noqa: E402

CLIENT_PUT = r"^/fx-[^/]*-client-\d{3}/"
ONE_CLIENT_PUT = r"^/fx-[^/]*-client-002/"  # persistent upload faults hit one client: the others go through
MANIFEST_PUT = r"^/fx-[^/]*-ops/manifests/"
REJECTED_PUT = r"^/fx-[^/]*-ops/rejected/"
OPS_PUT = r"^/fx-[^/]*-ops/"
MP_CREATE = r"^/fx-[^/]*-client-000/[^?]*\?uploads"
MP_PART = r"^/fx-[^/]*-client-000/[^?]*\?partNumber="
MP_COMPLETE = r"^/fx-[^/]*-client-000/[^?]*\?uploadId="
DYNAMODB_FAULTS = ["http500", "http503", "throughput", "throttling", "reset", "truncated", "crc", "latency"]
S3_FAULTS = ["http500", "http503", "slowdown", "reset", "truncated", "latency"]
GROUPS = ["dynamodb", "dynamodb-pages", "query", "s3-client", "s3-ops", "s3-multipart",
          "known-failing-multipart-complete", "known-failing-summary-requests"]


def spec(fault, mode, operation, match, **kw):
    """One case: `match` is the rule's conditions (service, target, method, path), or a list of them."""
    return dict(fault=fault, mode=mode, operation=operation, match=match if isinstance(match, list) else [match], **kw)


def s3_put(path, method="PUT"):
    return {"service": "s3", "method": method, "path": path}


def cases_for(group):
    """Every case of the group; the control case (no fault, through the proxies) comes first."""
    if group.startswith("known-failing-"):
        return known_failing_cases(group)
    if group in ("dynamodb", "query"):
        target = "Scan" if group == "dynamodb" else "Query"
        operation = "Scan" if group == "dynamodb" else "Query (read mode query)"
        out = [spec("none", "control", operation, [])]
        faults = DYNAMODB_FAULTS if group == "dynamodb" else ["http500", "throughput", "reset", "crc"]
        for fault in faults:
            for mode in ("transient", "persistent"):
                if group == "query" and fault == "reset" and mode == "persistent":
                    continue
                out.append(spec(fault, mode, operation, {"service": "dynamodb", "target": target}))
        return out
    if group == "dynamodb-pages":
        # The 14,000-event table read by one segment comes in several 1 MB pages; the faults hit the
        # requests for the pages after the first (they carry ExclusiveStartKey), while the events of
        # the earlier pages are already held: a retry must neither lose nor repeat them.
        later = "Scan, pages after the first (1 segment)"
        match = {"service": "dynamodb", "target": "Scan", "body": "ExclusiveStartKey"}
        out = [spec("none", "control", later, [])]
        for fault, mode in (("http500", "transient"), ("throughput", "transient"), ("reset", "transient"),
                            ("truncated", "transient"), ("crc", "transient"), ("reset", "persistent")):
            out.append(spec(fault, mode, later, match))
        return out
    if group == "s3-client":
        op = "PutObject, client buckets"
        out = [spec("none", "control", op, [])]
        for fault in S3_FAULTS:
            out.append(spec(fault, "transient", op, s3_put(CLIENT_PUT)))
            out.append(spec(fault, "persistent", op + " (client-002)", s3_put(ONE_CLIENT_PUT), victim="client-002"))
        # client-002's upload fails and so does the ops bucket that should keep its events: the hour fails.
        out.append(spec("http500", "persistent", "PutObject, client-002 and the ops bucket",
                        [s3_put(ONE_CLIENT_PUT), s3_put(OPS_PUT)], expect=(1, "ops-failed")))
        return out
    if group == "s3-ops":
        out = [spec("none", "control", "PutObject, ops bucket", [])]
        for fault in S3_FAULTS:
            if fault == "latency":
                out.append(spec(fault, "transient", "PutObject, ops bucket: rejected and manifest", s3_put(OPS_PUT)))
                continue
            for mode in ("transient", "persistent"):
                out.append(spec(fault, mode, "PutObject, ops bucket: manifest", s3_put(MANIFEST_PUT)))
        for mode in ("transient", "persistent"):
            out.append(spec("http500", mode, "PutObject, ops bucket: rejected events", s3_put(REJECTED_PUT)))
        return out
    if group == "s3-multipart":
        create, part, complete = ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")
        return [
            spec("none", "control", "multipart upload (5.6 MB, 2 parts)", []),
            spec("http503", "transient", create, s3_put(MP_CREATE, "POST")),
            spec("http503", "persistent", create, s3_put(MP_CREATE, "POST"), victim="client-000"),
            spec("http500", "transient", part, s3_put(MP_PART)),
            spec("reset", "transient", part, s3_put(MP_PART)),
            spec("truncated", "transient", part, s3_put(MP_PART)),
            spec("slowdown", "persistent", part, s3_put(MP_PART), victim="client-000"),
            spec("http500", "transient", complete, s3_put(MP_COMPLETE, "POST")),
            spec("slowdown", "transient", complete, s3_put(MP_COMPLETE, "POST")),
        ]
    raise ValueError(group)


# How each known defect shows itself: the failure message of its case starts with this.
KNOWN_SIGNATURES = {
    "known-failing-multipart-complete": "exit 3, expected 0",
    "known-failing-summary-requests": "summary says requests",
}


def known_failing_cases(group):
    """Cases that show a defect of the exporter: they state the correct outcome, so they fail until the
    exporter is fixed (ctest runs them with WILL_FAIL; see docs/RELIABILITY.md, "Known failures")."""
    if group == "known-failing-multipart-complete":
        # The CompleteMultipartUpload reaches S3 and completes the object; only its answer is lost (one
        # reset). The retries find the upload gone, so the client is declared undeliverable (exit 3)
        # although its object is in place: a transient fault that should have healed.
        return [spec("reset", "transient", "CompleteMultipartUpload (answer lost once)",
                     s3_put(MP_COMPLETE, "POST"), times=1)]
    if group == "known-failing-summary-requests":
        # Two 500s on the manifest PUT: retried and healed, but the run summary's requests/retries
        # leave out every ops-bucket write (rejected events, manifest).
        return [spec("http500", "transient", "PutObject, ops bucket: manifest (summary figures)",
                     s3_put(MANIFEST_PUT), strict_summary=True)]
    raise ValueError(group)


class Case:
    def __init__(self, ctx, group, spec_):
        self.ctx = ctx
        self.group = group
        self.spec = spec_
        self.fault = spec_["fault"]
        self.mode = spec_["mode"]
        dynamo = any(m.get("service") == "dynamodb" for m in spec_["match"]) or group.startswith("dynamodb") \
            or group == "query"
        self.row = {"group": group, "service": "DynamoDB" if dynamo else "S3", "operation": spec_["operation"],
                    "fault": self.fault, "mode": self.mode, "notes": []}

    def note(self, text):
        self.row["notes"].append(text)

    def rules(self):
        times = self.spec.get("times", 2) if self.mode == "transient" else None
        rules = []
        for i, match in enumerate(self.spec["match"]):
            rule = dict(match, name=f"{self.fault}-{self.mode}-{i}", fault=self.fault, times=times)
            if self.fault == "latency":
                rule["delay_s"] = 2
            rules.append(rule)
        return rules

    def expected(self):
        """(exit code, outcome kind) of the faulty run."""
        if "expect" in self.spec:
            return self.spec["expect"]
        if self.mode in ("control", "transient") or self.fault == "latency":
            return 0, "complete"
        if self.row["service"] == "DynamoDB":
            return 1, "read-failed"
        if self.spec.get("victim"):
            return 3, "client-undeliverable"
        return 1, "ops-failed"

    def run(self):
        ctx = self.ctx
        prefix = fh.new_prefix(f"{self.group}{self.fault}{self.mode[0]}")
        self.row["prefix"] = prefix
        clients = ctx.ref.clients
        fh.create_buckets(ctx.s3, prefix, clients)
        expected_rc, kind = self.expected()
        self.row["expected_exit"] = expected_rc
        self.row["expected"] = kind
        ctx.proxies.write_plan(self.rules(), f"{self.group}-{self.fault}-{self.mode}")
        offsets = ctx.proxies.log_offsets()
        env = dict(ctx.extra_env, **self.spec.get("env", {}))
        first = fh.run_exporter(ctx.session, ctx.proxies.endpoints(), prefix, env)
        seen = ctx.proxies.requests_since(offsets)
        injected = sum(1 for recs in seen.values() for r in recs if r.get("fault"))
        self.requests_seen = sum(1 for recs in seen.values() for r in recs if "method" in r)
        self.row.update(exit=first.rc, seconds=round(first.seconds, 2), injected=injected,
                        codes=first.error_codes(), curl_errors=first.curl_errors(),
                        retries=first.retries_logged(), summary_retries=(first.summary or {}).get("retries"),
                        summary=fh.summary_line(first.summary))
        fh.check(first.rc == expected_rc, f"exit {first.rc}, expected {expected_rc}: {first.describe()}")
        snap = fh.snapshot(ctx.s3, prefix, clients)
        self.check_injected(injected, seen)
        getattr(self, "check_" + kind.replace("-", "_"))(first, snap)
        if kind != "complete":
            # Heal: no more faults, and the rerun must give the complete, identical result.
            ctx.proxies.write_plan([], f"heal-{self.group}-{self.fault}")
            rerun = fh.run_exporter(ctx.session, ctx.proxies.endpoints(), prefix, env)
            self.row.update(rerun_exit=rerun.rc, rerun_seconds=round(rerun.seconds, 2))
            fh.check(rerun.rc == 0, f"rerun after healing: {rerun.describe()}")
            leftovers = kind == "client-undeliverable"
            fh.check_complete(fh.snapshot(ctx.s3, prefix, clients), ctx.ref, rerun.summary,
                              allow_undeliverable_leftovers=leftovers)
            if leftovers:
                self.note("the rerun's manifest says delivered; the first run's undeliverable/ copy stays "
                          "in the ops bucket")
        fh.delete_buckets(ctx.s3, prefix, clients)

    def check_injected(self, injected, seen):
        if self.mode == "control":
            fh.check(injected == 0, f"control run saw {injected} faults")
            return
        if self.mode == "transient":
            times = self.spec.get("times", 2)
            fh.check(injected == times, f"{injected} faults injected, expected exactly {times}")
        else:
            fh.check(injected >= (fh.MAX_ATTEMPTS if self.fault != "latency" else 1),
                     f"only {injected} faults injected")
        if self.fault == "reset":
            records = [r for recs in seen.values() for r in recs if r.get("event") == "reset"]
            fh.check(records and all(r["rst"] for r in records), "reset did not use SO_LINGER 0 (RST)")
        if self.group == "s3-multipart" and self.mode == "persistent" and "partNumber" in str(self.spec["match"]):
            aborts = [r for r in seen["s3"] if r.get("method") == "DELETE" and "uploadId=" in r["path"]]
            fh.check(aborts, "the failed multipart upload was not aborted")
            self.note("AbortMultipartUpload sent (s3rver 3.7 answers 405: it has no abort)")

    # --- outcome checks ----------------------------------------------------------------------------

    def check_complete(self, run, snap):
        fh.check_complete(snap, self.ctx.ref, run.summary)
        # Retries as logged (aws.retry lines): the summary's "retries" leaves out the ops bucket's
        # writes (see known_failing_test.py).
        retries = run.retries_logged()
        if self.mode == "transient" and self.fault == "reset":
            # On a reused keep-alive connection that dies before any answer byte, libcurl resends the
            # request once by itself on a fresh connection: such a reset costs no logged retry.
            fh.check(1 <= retries <= 2, f"{retries} retries logged, expected 1 or 2")
            if retries == 1:
                self.note("one reset was absorbed by libcurl's own resend on a fresh connection")
        elif self.mode == "transient" and self.fault != "latency":
            fh.check(retries == 2, f"{retries} retries logged, expected 2")
            if self.fault == "crc":
                fh.check("Crc32Mismatch" in run.error_codes(), f"CRC32 mismatch not reported: {run.error_codes()}")
        if self.fault == "latency":
            fh.check(retries == 0, f"latency caused {retries} retries")
        if self.spec.get("strict_summary"):
            s = run.summary
            self.note(f"summary: requests {s['requests']}, retries {s['retries']}; proxies saw "
                      f"{self.requests_seen} requests, {retries} retries logged")
            fh.check(s["retries"] == retries and s["requests"] == self.requests_seen,
                     f"summary says requests {s['requests']}, retries {s['retries']}; the proxies saw "
                     f"{self.requests_seen} requests and the log has {retries} retries")

    def check_read_failed(self, run, snap):
        fh.check(run.summary is not None and run.summary.get("hours_failed") == 1,
                 f"summary should report the failed hour: {run.stdout[:400]}")
        hour = run.summary["hours"][0]
        fh.check(hour["status"] == "failed", f"hour status {hour['status']}")
        for name, objects in snap.items():
            fh.check(not objects, f"a failed read wrote {name}: {sorted(objects)}")
        if self.fault == "crc":
            fh.check("Crc32Mismatch" in run.error_codes(), f"CRC32 mismatch not reported: {run.error_codes()}")

    def check_client_undeliverable(self, run, snap):
        ref = self.ctx.ref
        s = run.summary
        fh.check_accounting(s)
        victim = self.spec["victim"]
        self.row["victim"] = victim
        lost = ref.events_of[victim]
        fh.check(s["events_undeliverable"] == lost, f"undeliverable {s['events_undeliverable']} != {lost}")
        fh.check(s["events_delivered"] == ref.summary["events_delivered"] - lost, fh.summary_line(s))
        fh.check(s["events_rejected"] == ref.summary["events_rejected"], fh.summary_line(s))
        kept = snap["ops"].get(f"undeliverable/{victim}/{fh.OBJECT_KEY}")
        fh.check(kept == ref.objects[victim], "undeliverable copy differs from the client's object")
        manifest = snap["ops"].get(fh.MANIFEST_KEY)
        fh.check(manifest is not None, "manifest missing after a run with undeliverable events")
        entries = {e["client"]: e for e in json.loads(manifest)["objects"]}
        fh.check(entries[victim]["status"] == "undeliverable", f"manifest: {entries[victim]}")
        for c in ref.clients:
            body = snap[c].get(fh.OBJECT_KEY)
            if c != victim:
                fh.check(body == ref.objects[c], f"{c}: object differs or is missing")
                fh.check(entries[c]["status"] == "delivered", f"manifest: {entries[c]}")
            elif body is not None:
                # reset/truncated: the PUT reached S3 and was stored; only the answer was lost.
                fh.check(body == ref.objects[c], f"{c}: object stored behind the fault differs")
                self.note(f"the PUT reached S3 before the answer was cut: {c}'s object exists "
                          "(identical) while the manifest says undeliverable")
        fh.check(ref.same_rejected(snap["ops"].get(fh.REJECTED_KEY), snap.prefix), "rejected object differs")

    def check_ops_failed(self, run, snap):
        fh.check(run.summary is not None and run.summary.get("hours_failed") == 1,
                 f"summary should report the failed hour: {run.stdout[:400]}")
        fh.check_partial_objects_match(snap, self.ctx.ref)
        self.row["manifest_after"] = fh.MANIFEST_KEY in snap["ops"]
        if fh.MANIFEST_KEY in snap["ops"]:
            # reset/truncated let the PUT through and cut only its answer: the manifest is stored while
            # the exporter, never told so, reports the hour failed. It must then name a complete hour.
            fh.check(self.fault in ("reset", "truncated"), "manifest written although the ops bucket failed")
            fh.check_complete(snap, self.ctx.ref)

        present = sum(1 for c in self.ctx.ref.clients if fh.OBJECT_KEY in snap[c])
        self.note(f"{present}/{len(self.ctx.ref.clients)} client objects present, all already final")


class Context:
    pass


def main():
    """Known-failing groups run under ctest's WILL_FAIL: they exit 1 only when the known defect shows
    with its signature; 0 when the case passes (the defect is fixed: drop WILL_FAIL) or fails in any
    other way, so that ctest reports those."""
    known = any(a.startswith("known-failing-") for a in sys.argv)
    try:
        code = run_group()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        code = 0 if known else 1
    sys.exit(code)


def run_group():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--group", required=True, choices=GROUPS)
    parser.add_argument("--only", help="run only the cases whose fault is this (debugging)")
    args = parser.parse_args()
    build_dir = os.path.abspath(args.build_dir)
    ctx = Context()
    ctx.session = fh.load_session(build_dir)
    multipart = args.group in ("s3-multipart", "dynamodb-pages", "known-failing-multipart-complete")
    ctx.ref = fh.Reference(ctx.session["multipart"]["reference_dir"] if multipart else ctx.session["reference_dir"])
    ctx.s3 = fh.s3_client(fh.read_env_file(ctx.session["env_file"]))
    ctx.extra_env = dict(ctx.session["multipart"]["env"]) if multipart else {}
    if args.group == "query":
        ctx.extra_env["EAGLESENSE_READ_MODE"] = "query"
    if args.group == "dynamodb-pages":
        ctx.extra_env["EAGLESENSE_SEGMENTS"] = "1"
    started = time.time()
    rows = []
    failures = 0
    with fh.Proxies(ctx.session, args.group) as proxies:
        ctx.proxies = proxies
        for case_spec in cases_for(args.group):
            if args.only and case_spec["fault"] not in (args.only, "none"):
                continue
            case = Case(ctx, args.group, case_spec)
            t0 = time.time()
            try:
                case.run()
                case.row["result"] = "pass"
            except Exception as e:  # noqa: BLE001 - every case is reported, the run goes on
                failures += 1
                case.row["result"] = "FAIL"
                case.row["error"] = str(e)[:2000]
                if not isinstance(e, fh.CheckFailed):
                    traceback.print_exc()
            case.row["case_seconds"] = round(time.time() - t0, 2)
            rows.append(case.row)
            fh.log(f"{args.group} {case.fault:<10} {case.mode:<10} {case.row['operation'][:34]:<34} "
                   f"{case.row['result']:<4} exit {case.row.get('exit')}"
                   f"{'' if 'rerun_exit' not in case.row else ', rerun ' + str(case.row['rerun_exit'])}"
                   f"  injected {case.row.get('injected')}  codes {','.join(case.row.get('codes', []))}"
                   f"  {case.row['case_seconds']}s" + (f"\n    {case.row.get('error')}" if case.row.get("error") else ""))
    fh.write_results(build_dir, f"faults-{args.group}", {
        "kind": "faults", "group": args.group, "rows": rows, "seconds": round(time.time() - started, 1),
        "max_attempts": fh.MAX_ATTEMPTS, "known_failing": args.group.startswith("known-failing-")})
    fh.log(f"{args.group}: {len(rows) - failures}/{len(rows)} cases passed in {time.time() - started:.1f}s")
    if args.group in KNOWN_SIGNATURES:
        signature = KNOWN_SIGNATURES[args.group]
        if failures and all(r.get("error", "").startswith(signature) for r in rows if r["result"] == "FAIL"):
            fh.log(f"known defect observed ({signature!r}): exit 1, which ctest (WILL_FAIL) counts as expected")
            return 1
        fh.log("the known defect did NOT show as expected: exit 0, which ctest (WILL_FAIL) reports as a failure")
        return 0
    return 1 if failures else 0


if __name__ == "__main__":
    main()
