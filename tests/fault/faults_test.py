"""Fault injection: `eaglesense run` through fault-injecting proxies (tests/fault/fault_addon.py).

    faults_test.py --build-dir B --group GROUP [--backend local|moto] [--only FAULT]

Each group starts its own pair of proxies (DynamoDB and S3) in front of the session's servers (the
backend's fixture: dynalite + s3rver, or moto_server, which checks every SigV4 signature, so the
proxies must pass requests through unchanged) and runs its cases one after another, each into
fresh buckets:

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

Besides the fault groups: summary-requests (the run summary's requests/retries count the ops
bucket's writes and their retries), s3-headers (the headers of every request to a client bucket,
recorded by the proxy: expected bucket owner, SSE-KMS and its key id) and multipart-complete (a lost
CompleteMultipartUpload answer heals; needs a server with real multipart ETags: moto).

Each case becomes a row of B/fault-results/<backend>-faults-<group>.json; fault_report.py turns them
into the fault x outcome table (B/fault-results.md, docs/RELIABILITY.md). Exit 0 when every case
passed, 1 otherwise (any exception included). FAULT_DEBUG_STDERR=1 prints each faulty run's log.
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
UNDELIVERABLE_PUT = r"^/fx-[^/]*-ops/undeliverable/"
UNDELIVERABLE_PART = r"^/fx-[^/]*-ops/undeliverable/[^?]*\?partNumber="
OPS_PUT = r"^/fx-[^/]*-ops/"
MP_CREATE = r"^/fx-[^/]*-client-000/[^?]*\?uploads"
MP_PART = r"^/fx-[^/]*-client-000/[^?]*\?partNumber="
MP_COMPLETE = r"^/fx-[^/]*-client-000/[^?]*\?uploadId="
CASE_BUCKETS = r"^/fx-[^/]*-(client-\d{3}|ops)(/|\?|$)"
DYNAMODB_FAULTS = ["http500", "http503", "throughput", "throttling", "reset", "truncated", "crc", "latency"]
S3_FAULTS = ["http500", "http503", "slowdown", "reset", "truncated", "latency"]
GROUPS = ["dynamodb", "dynamodb-pages", "query", "s3-client", "s3-ops", "s3-multipart",
          "summary-requests", "s3-headers", "multipart-complete"]
MULTIPART_GROUPS = ("s3-multipart", "dynamodb-pages", "multipart-complete")
# s3-headers: the settings that must reach the wire. Moto's account is 123456789012; neither
# backend checks the owner or the key, so the proxy's record is the proof (and moto's HeadObject).
OWNER = "123456789012"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
HEADER_ENV = {"EAGLESENSE_EXPECTED_BUCKET_OWNER": OWNER, "EAGLESENSE_SSE": "aws:kms",
              "EAGLESENSE_KMS_KEY_ID": KMS_KEY}
SSE_HEADERS = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id")


def spec(fault, mode, operation, match, **kw):
    """One case: `match` is the rule's conditions (service, target, method, path), or a list of them.
    Options: victim (the client expected undeliverable), missing (clients whose bucket the case does
    not create), expect ((exit, outcome) of the faulty run), rerun_expect ((exit, outcome) of the
    rerun after healing, default (0, "complete")), times (transient: how many faults), dataset
    ("main" or "multipart"), env, strict_summary (the summary's requests/retries are checked),
    record_headers (path regex: the proxy logs those requests' headers, checked by check_headers),
    retries ((min, max) logged), injected ((min, max) faults), extra_rules (more plan rules),
    shims ({backend: [answer rewrites]}, fault_addon.py), answer_lost (the resolution that
    s3.complete_answer_lost must log)."""
    return dict(fault=fault, mode=mode, operation=operation, match=match if isinstance(match, list) else [match], **kw)


def s3_put(path, method="PUT"):
    return {"service": "s3", "method": method, "path": path}


# On moto the dynamodb group runs a subset: the faults are made by the proxy whatever the server, so
# what moto adds is its signature check of every retried (re-signed) request and its own answers
# (its JSON, its x-amz-crc32); one case per kind of failure shows that. (A moto Scan costs about
# 4 ms per item, so the full group would cost a minute of the label's wall time.)
MOTO_DYNAMODB = [("http500", "transient"), ("http500", "persistent"), ("throttling", "transient"),
                 ("reset", "transient"), ("truncated", "transient"), ("crc", "transient")]


def cases_for(group, backend="local"):
    """Every case of the group; the control case (no fault, through the proxies) comes first."""
    if group in ("dynamodb", "query"):
        target = "Scan" if group == "dynamodb" else "Query"
        operation = "Scan" if group == "dynamodb" else "Query (read mode query)"
        out = [spec("none", "control", operation, [])]
        faults = DYNAMODB_FAULTS if group == "dynamodb" else ["http500", "throughput", "reset", "crc"]
        for fault in faults:
            for mode in ("transient", "persistent"):
                if group == "query" and fault == "reset" and mode == "persistent":
                    continue
                if backend == "moto" and (fault, mode) not in MOTO_DYNAMODB:
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
        # Only the undeliverable/ copy fails: client-002's bucket is missing, so its events must go to
        # the ops bucket's undeliverable/, and that PUT is the one faulted (the rejected events and
        # the manifest go through). Transient: retried, exit 3 with the copy in place. Persistent:
        # the events are nowhere, so the hour must fail (exit 1, no manifest), never be marked
        # complete; once healed, the rerun keeps them (exit 3: the bucket is still missing).
        op = "PutObject, ops bucket: undeliverable copy (client-002's bucket missing)"
        out.append(spec("http500", "transient", op, s3_put(UNDELIVERABLE_PUT), victim="client-002",
                        missing=["client-002"], expect=(3, "client-undeliverable")))
        out.append(spec("http500", "persistent", op, s3_put(UNDELIVERABLE_PUT), victim="client-002",
                        missing=["client-002"], expect=(1, "ops-failed"),
                        rerun_expect=(3, "client-undeliverable")))
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
            # client-000's bucket is missing and the multipart upload of its undeliverable/ copy
            # fails: the hour fails; healed, the rerun keeps the events (exit 3).
            spec("http500", "persistent", "UploadPart, ops bucket: undeliverable copy (client-000's bucket missing)",
                 s3_put(UNDELIVERABLE_PART), victim="client-000", missing=["client-000"],
                 expect=(1, "ops-failed"), rerun_expect=(3, "client-undeliverable")),
        ]
    if group == "summary-requests":
        # Two 500s on an ops-bucket PUT: retried and healed (exit 0). The run summary's requests and
        # retries must count the ops-bucket writes (rejected events, manifest) and their retries:
        # they equal what the proxies saw and what the log reports (regression, issue 16).
        return [spec("http500", "transient", "PutObject, ops bucket: manifest (summary figures)",
                     s3_put(MANIFEST_PUT), strict_summary=True),
                spec("http500", "transient", "PutObject, ops bucket: rejected events (summary figures)",
                     s3_put(REJECTED_PUT), strict_summary=True)]
    if group == "s3-headers":
        # No fault: the proxy records the headers of every request to the case's buckets, with
        # EAGLESENSE_EXPECTED_BUCKET_OWNER, EAGLESENSE_SSE=aws:kms and EAGLESENSE_KMS_KEY_ID set.
        return [spec("none", "control", "headers of PutObject (client and ops buckets), SSE-KMS and owner", [],
                     env=HEADER_ENV, record_headers=CASE_BUCKETS, dataset="main"),
                spec("none", "control", "headers of a multipart upload (Create, 2 parts, Complete), SSE-KMS and owner",
                     [], env=HEADER_ENV, record_headers=CASE_BUCKETS, dataset="multipart")]
    if group == "multipart-complete":
        # The CompleteMultipartUpload reaches S3 and completes the object; only its answer is lost (one
        # reset). The outcome must be exit 0, complete: the client is delivered. S3 answers the retry
        # in one of two ways: 200 with the object when it recognizes a repeated completion (moto
        # does so), or 404 NoSuchUpload once the upload is forgotten, made here by the proxy answering
        # every later Complete so; the exporter must then find its object with HeadObject (size,
        # composite SHA-256, multipart ETag). s3rver answers the retry with 500 and gives neither
        # the checksum nor a multipart ETag, so this group runs on moto only.
        return [spec("reset", "transient", "CompleteMultipartUpload (answer lost once; the retry completes again)",
                     s3_put(MP_COMPLETE, "POST"), times=1, retries=(0, 3)),
                spec("reset", "transient", "CompleteMultipartUpload (answer lost once; retries get 404 NoSuchUpload)",
                     s3_put(MP_COMPLETE, "POST"), times=1, retries=(0, 3), injected=(2, 2 * fh.MAX_ATTEMPTS),
                     extra_rules=[dict(s3_put(MP_COMPLETE, "POST"), name="nosuchupload-after", fault="nosuchupload",
                                       times=None)],
                     answer_lost="object verified",
                     # moto 5.2.1 gives the composite checksum without S3's "-2": the proxy adds it
                     # (fault_addon.py, shims), so that the HeadObject is answered as S3 answers it.
                     shims={"moto": ["composite-checksum-suffix"]})]
    raise ValueError(group)


class Case:
    def __init__(self, ctx, group, spec_):
        self.ctx = ctx
        self.group = group
        self.spec = spec_
        self.fault = spec_["fault"]
        self.mode = spec_["mode"]
        dataset = spec_.get("dataset", ctx.dataset)
        self.ref = ctx.refs[dataset]
        self.env = dict(ctx.envs[dataset], **spec_.get("env", {}))
        self.missing = list(spec_.get("missing", []))
        dynamo = any(m.get("service") == "dynamodb" for m in spec_["match"]) or group.startswith("dynamodb") \
            or group == "query"
        self.row = {"group": group, "backend": ctx.backend, "service": "DynamoDB" if dynamo else "S3",
                    "operation": spec_["operation"], "fault": self.fault, "mode": self.mode, "notes": []}
        if "times" in spec_:
            self.row["times"] = spec_["times"]

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
        return rules + list(self.spec.get("extra_rules", []))

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
        clients = self.ref.clients
        fh.create_buckets(ctx.s3, prefix, clients, missing=self.missing)
        expected_rc, kind = self.expected()
        self.row["expected_exit"] = expected_rc
        self.row["expected"] = kind
        if self.missing:
            self.row["missing_buckets"] = self.missing
        ctx.proxies.write_plan(self.rules(), f"{self.group}-{self.fault}-{self.mode}",
                               record_headers=self.spec.get("record_headers"),
                               shims=self.spec.get("shims", {}).get(ctx.backend))
        offsets = ctx.proxies.log_offsets()
        first = fh.run_exporter(ctx.session, ctx.proxies.endpoints(), prefix, self.env)
        seen = ctx.proxies.requests_since(offsets)
        injected = sum(1 for recs in seen.values() for r in recs if r.get("fault"))
        self.shims_fired = [r for recs in seen.values() for r in recs if r.get("event") == "shim"]
        self.requests_seen = sum(1 for recs in seen.values() for r in recs if "method" in r)
        self.row.update(exit=first.rc, seconds=round(first.seconds, 2), injected=injected,
                        codes=first.error_codes(), curl_errors=first.curl_errors(),
                        retries=first.retries_logged(), summary_retries=(first.summary or {}).get("retries"),
                        summary=fh.summary_line(first.summary))
        if os.environ.get("FAULT_DEBUG_STDERR"):
            print(first.stderr, flush=True)
        fh.check(first.rc == expected_rc, f"exit {first.rc}, expected {expected_rc}: {first.describe()}")
        snap = fh.snapshot(ctx.s3, prefix, clients, missing=self.missing)
        self.check_injected(injected, seen)
        getattr(self, "check_" + kind.replace("-", "_"))(first, snap)
        if self.spec.get("record_headers"):
            self.check_headers(seen, prefix)
        if kind != "complete" and self.mode == "persistent":
            # Heal: no more faults, and the rerun must give the complete, identical result (or, when
            # a client bucket is missing, the complete result with that client's events kept).
            rerun_rc, rerun_kind = self.spec.get("rerun_expect", (0, "complete"))
            ctx.proxies.write_plan([], f"heal-{self.group}-{self.fault}")
            rerun = fh.run_exporter(ctx.session, ctx.proxies.endpoints(), prefix, self.env)
            self.row.update(rerun_exit=rerun.rc, rerun_seconds=round(rerun.seconds, 2),
                            rerun_expected_exit=rerun_rc)
            fh.check(rerun.rc == rerun_rc, f"rerun after healing: exit {rerun.rc}, expected {rerun_rc}: "
                                           f"{rerun.describe()}")
            rerun_snap = fh.snapshot(ctx.s3, prefix, clients, missing=self.missing)
            if rerun_kind == "complete":
                leftovers = kind == "client-undeliverable"
                fh.check_complete(rerun_snap, self.ref, rerun.summary, allow_undeliverable_leftovers=leftovers)
                if leftovers:
                    self.note("the rerun's manifest says delivered; the first run's undeliverable/ copy stays "
                              "in the ops bucket")
            else:
                self.check_client_undeliverable(rerun, rerun_snap, rerun=True)
        fh.delete_buckets(ctx.s3, prefix, clients)

    def check_injected(self, injected, seen):
        if self.mode == "control":
            fh.check(injected == 0, f"control run saw {injected} faults")
            return
        if "injected" in self.spec:
            low, high = self.spec["injected"]
            fh.check(low <= injected <= high, f"{injected} faults injected, expected {low}..{high}")
        elif self.mode == "transient":
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
            if self.ctx.backend == "moto":
                # moto has AbortMultipartUpload: nothing may be left in progress.
                bucket = aborts[0]["path"].split("/")[1]
                left = self.ctx.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
                fh.check(not left, f"multipart uploads left in {bucket}: {[u['Key'] for u in left]}")
                self.note("AbortMultipartUpload sent; no upload left in progress")
            else:
                self.note("AbortMultipartUpload sent (s3rver 3.7 answers 405: it has no abort)")

    # --- outcome checks ----------------------------------------------------------------------------

    def check_complete(self, run, snap):
        fh.check_complete(snap, self.ref, run.summary)
        # Retries as logged (aws.retry lines).
        retries = run.retries_logged()
        if "retries" in self.spec:
            low, high = self.spec["retries"]
            fh.check(low <= retries <= high, f"{retries} retries logged, expected {low}..{high}")
        elif self.mode == "transient" and self.fault == "reset":
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
        if self.group == "multipart-complete":
            lost = [json.loads(line) for line in run.stderr.splitlines() if '"s3.complete_answer_lost"' in line]
            if self.spec.get("answer_lost"):
                # Every retry was told NoSuchUpload: the exporter must have recognized its object.
                fh.check(lost and all(r.get("resolution") == self.spec["answer_lost"] for r in lost),
                         f"no s3.complete_answer_lost with resolution {self.spec['answer_lost']!r} in the log: "
                         f"{run.describe()}")
                self.note(f"NoSuchUpload on the retry; the object verified by HeadObject ({retries} retries logged)")
                if self.shims_fired:
                    self.note("the HeadObject answer's x-amz-checksum-sha256 got S3's '-2' suffix from the proxy "
                              "(moto 5.2.1 leaves it out)")
            elif lost:
                self.note(f"the object verified by HeadObject after the lost answer ({retries} retries logged)")
            else:
                self.note(f"the retried Complete was answered 200 (repeated completion; {retries} retries logged)")
        if self.spec.get("strict_summary"):
            s = run.summary
            self.note(f"summary: requests {s['requests']}, retries {s['retries']}; proxies saw "
                      f"{self.requests_seen} requests, {retries} retries logged")
            fh.check(s["retries"] == retries == 2 and s["requests"] == self.requests_seen,
                     f"summary says requests {s['requests']}, retries {s['retries']}; the proxies saw "
                     f"{self.requests_seen} requests and the log has {retries} retries (2 expected)")

    def check_read_failed(self, run, snap):
        fh.check(run.summary is not None and run.summary.get("hours_failed") == 1,
                 f"summary should report the failed hour: {run.stdout[:400]}")
        hour = run.summary["hours"][0]
        fh.check(hour["status"] == "failed", f"hour status {hour['status']}")
        for name, objects in snap.items():
            fh.check(not objects, f"a failed read wrote {name}: {sorted(objects)}")
        if self.fault == "crc":
            fh.check("Crc32Mismatch" in run.error_codes(), f"CRC32 mismatch not reported: {run.error_codes()}")

    def check_client_undeliverable(self, run, snap, rerun=False):
        ref = self.ref
        s = run.summary
        fh.check(s is not None, f"no summary: {run.describe()}")
        fh.check(s.get("hours_failed") == 0, f"hour failed: {run.stdout[:400]}")
        fh.check_accounting(s)
        victim = self.spec["victim"]
        self.row["victim"] = victim
        lost = ref.events_of[victim]
        fh.check(s["events_undeliverable"] == lost, f"undeliverable {s['events_undeliverable']} != {lost}")
        fh.check(s["events_delivered"] == ref.summary["events_delivered"] - lost, fh.summary_line(s))
        fh.check(s["events_rejected"] == ref.summary["events_rejected"], fh.summary_line(s))
        kept = snap["ops"].get(f"undeliverable/{victim}/{fh.OBJECT_KEY}")
        fh.check(kept == ref.objects[victim], "undeliverable copy differs from the client's object"
                 if kept is not None else f"no undeliverable/{victim}/ copy in the ops bucket")
        manifest = snap["ops"].get(fh.MANIFEST_KEY)
        fh.check(manifest is not None, "manifest missing after a run with undeliverable events")
        manifest = json.loads(manifest)
        for field in ("events_read", "events_delivered", "events_rejected", "events_undeliverable"):
            fh.check(manifest[field] == s[field], f"manifest {field} {manifest[field]} != summary {s[field]}")
        entries = {e["client"]: e for e in manifest["objects"]}
        fh.check(sorted(entries) == ref.clients, f"manifest clients {sorted(entries)}")
        fh.check(entries[victim]["status"] == "undeliverable", f"manifest: {entries[victim]}")
        fh.check(entries[victim]["events"] == lost, f"manifest: {entries[victim]}")
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
        if victim in self.missing:
            # Undeliverable because the bucket is missing, not because of the injected fault.
            error = entries[victim].get("error", "")
            fh.check("NoSuchBucket" in error, f"manifest: {victim} undeliverable with error {error!r}, "
                                              "expected NoSuchBucket")
            if not rerun:
                self.note(f"{victim}'s bucket is missing (NoSuchBucket): its events kept under undeliverable/ "
                          "(same bytes)")

    def check_ops_failed(self, run, snap):
        fh.check(run.summary is not None and run.summary.get("hours_failed") == 1,
                 f"summary should report the failed hour: {run.stdout[:400]}")
        hour = run.summary["hours"][0]
        fh.check(hour["status"] == "failed", f"hour status {hour['status']}")
        fh.check_partial_objects_match(snap, self.ref)
        self.row["manifest_after"] = fh.MANIFEST_KEY in snap["ops"]
        if fh.MANIFEST_KEY in snap["ops"]:
            # reset/truncated let the PUT through and cut only its answer: the manifest is stored while
            # the exporter, never told so, reports the hour failed. It must then name a complete hour.
            fh.check(self.fault in ("reset", "truncated"), "manifest written although the ops bucket failed")
            fh.check_complete(snap, self.ref)
        victim = self.spec.get("victim")
        if victim:
            # The victim's events are neither in its (missing) bucket nor in the ops bucket: the hour
            # must say so by failing, and name the undeliverable copy that could not be written.
            copy = f"undeliverable/{victim}/{fh.OBJECT_KEY}"
            fh.check(copy not in snap["ops"], f"{copy} exists although every PUT of it failed")
            fh.check(f"undeliverable/{victim}/" in hour.get("error", ""),
                     f"the failed hour's error does not name the undeliverable copy: {hour.get('error')!r}")
            self.note(f"{victim}'s bucket missing and its undeliverable/ copy refused "
                      f"(the hour's error: {hour.get('error', '')[:160]})")
        present = sum(1 for c in self.ref.clients if fh.OBJECT_KEY in snap[c])
        self.note(f"{present}/{len(self.ref.clients)} client objects present, all already final")

    # --- headers (s3-headers) ----------------------------------------------------------------------

    def check_headers(self, seen, prefix):
        """Every request to a client bucket or the ops bucket carries x-amz-expected-bucket-owner; PutObject and
        CreateMultipartUpload carry SSE-KMS with the key id, UploadPart and CompleteMultipartUpload
        carry none (S3 takes those headers only where an object is created); every PUT of a body
        carries x-amz-checksum-sha256. The ops bucket's PUTs carry SSE-KMS too."""
        recorded = [r for r in seen["s3"] if "headers" in r]
        kinds = {}
        for r in recorded:
            bucket = r["path"].split("/")[1].split("?")[0]
            query = r["path"].split("?", 1)[1] if "?" in r["path"] else ""
            if r["method"] == "PUT" and "partNumber=" in query:
                kind = "UploadPart"
            elif r["method"] == "POST" and query.startswith("uploads"):
                kind = "CreateMultipartUpload"
            elif r["method"] == "POST" and "uploadId=" in query:
                kind = "CompleteMultipartUpload"
            elif r["method"] == "PUT" and "/" in r["path"].lstrip("/") and not query:
                kind = "PutObject"
            else:
                kind = f"{r['method']} {query or 'object'}"
            where = "ops" if bucket.endswith("-ops") else "client"
            kinds.setdefault((where, kind), []).append(r)
            h = r["headers"]
            label = f"{kind} {r['path'][:90]}"
            # Client and ops buckets alike (EAGLESENSE_OPS_BUCKET_OWNER defaults to the same owner).
            fh.check(h.get("x-amz-expected-bucket-owner") == OWNER,
                     f"{label}: x-amz-expected-bucket-owner {h.get('x-amz-expected-bucket-owner')!r}, "
                     f"expected {OWNER} ({where} bucket)")
            if kind in ("PutObject", "CreateMultipartUpload"):
                fh.check(h.get("x-amz-server-side-encryption") == "aws:kms",
                         f"{label}: x-amz-server-side-encryption {h.get('x-amz-server-side-encryption')!r}")
                fh.check(h.get("x-amz-server-side-encryption-aws-kms-key-id") == KMS_KEY,
                         f"{label}: x-amz-server-side-encryption-aws-kms-key-id "
                         f"{h.get('x-amz-server-side-encryption-aws-kms-key-id')!r}")
            else:
                for name in SSE_HEADERS:
                    fh.check(name not in h, f"{label}: {name} sent where S3 does not take it")
            if kind in ("PutObject", "UploadPart"):
                fh.check(h.get("x-amz-checksum-sha256"), f"{label}: no x-amz-checksum-sha256")
        counts = {f"{w} {k}": len(v) for (w, k), v in sorted(kinds.items())}
        self.row["requests_recorded"] = counts
        client = {k: n for (w, k), n in ((key, len(v)) for key, v in kinds.items()) if w == "client"}
        clients = len(self.ref.clients)
        if self.spec.get("dataset") == "multipart":
            want = {"CreateMultipartUpload": 1, "UploadPart": 2, "CompleteMultipartUpload": 1}
        else:
            want = {"PutObject": clients}
        fh.check(client == want, f"requests to the client buckets {client}, expected {want}")
        fh.check(len(kinds.get(("ops", "PutObject"), [])) >= 1, f"no ops-bucket PUT recorded: {counts}")
        self.note("recorded " + ", ".join(f"{n} {k}" for k, n in counts.items()) +
                  f": owner {OWNER} on every client-bucket request; SSE aws:kms + key id on every "
                  "PutObject and CreateMultipartUpload, none on UploadPart/Complete")
        if self.ctx.backend == "moto":
            # moto keeps what it was told: the stored objects say SSE-KMS with our key.
            for c in self.ref.clients:
                head = self.ctx.s3.head_object(Bucket=f"{prefix}-{c}", Key=fh.OBJECT_KEY)
                fh.check(head.get("ServerSideEncryption") == "aws:kms" and head.get("SSEKMSKeyId") == KMS_KEY,
                         f"{c}: stored with SSE {head.get('ServerSideEncryption')!r} key {head.get('SSEKMSKeyId')!r}")
            self.note("moto's HeadObject: every client object stored with SSE aws:kms and the key id")


class Context:
    pass


def main():
    try:
        code = run_group()
    except SystemExit:
        raise
    except BaseException:  # noqa: BLE001 - any error is a failure of the test
        traceback.print_exc()
        code = 1
    sys.exit(code)


def run_group():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--backend", choices=fh.BACKENDS, default="local")
    parser.add_argument("--group", required=True, choices=GROUPS)
    parser.add_argument("--only", help="run only the cases whose fault is this (debugging)")
    args = parser.parse_args()
    build_dir = os.path.abspath(args.build_dir)
    ctx = Context()
    ctx.backend = args.backend
    ctx.session = fh.load_session(build_dir, args.backend)
    ctx.refs = {"main": fh.Reference(ctx.session["reference_dir"]),
                "multipart": fh.Reference(ctx.session["multipart"]["reference_dir"])}
    ctx.envs = {"main": {}, "multipart": dict(ctx.session["multipart"]["env"])}
    ctx.dataset = "multipart" if args.group in MULTIPART_GROUPS else "main"
    if args.group == "query":
        ctx.envs["main"]["EAGLESENSE_READ_MODE"] = "query"
    if args.group == "dynamodb-pages":
        ctx.envs["multipart"]["EAGLESENSE_SEGMENTS"] = "1"
    ctx.s3 = fh.s3_client(fh.read_env_file(ctx.session["env_file"]))
    started = time.time()
    rows = []
    failures = 0
    cases = [c for c in cases_for(args.group, args.backend) if not args.only or c["fault"] in (args.only, "none")]
    with fh.Proxies(ctx.session, args.group) as proxies:
        ctx.proxies = proxies
        for case_spec in cases:
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
            fh.log(f"{args.backend} {args.group} {case.fault:<10} {case.mode:<10} {case.row['operation'][:34]:<34} "
                   f"{case.row['result']:<4} exit {case.row.get('exit')}"
                   f"{'' if 'rerun_exit' not in case.row else ', rerun ' + str(case.row['rerun_exit'])}"
                   f"  injected {case.row.get('injected')}  codes {','.join(case.row.get('codes', []))}"
                   f"  {case.row['case_seconds']}s" + (f"\n    {case.row.get('error')}" if case.row.get("error") else ""))
    fh.write_results(build_dir, fh.results_name(args.backend, f"faults-{args.group}"), {
        "kind": "faults", "backend": args.backend, "group": args.group, "rows": rows,
        "seconds": round(time.time() - started, 1), "max_attempts": fh.MAX_ATTEMPTS})
    fh.log(f"{args.backend} {args.group}: {len(rows) - failures}/{len(rows)} cases passed in "
           f"{time.time() - started:.1f}s")
    if not rows:
        fh.log("no case ran")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    main()
