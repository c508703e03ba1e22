// Hour leases (export/hour_lease.h) against the in-memory store, which honours If-None-Match and
// If-Match (or, switched, ignores them as s3rver does): acquire, held, expired takeover, a lost
// takeover race, release, an unreadable lease, a server ignoring conditions; export_hours leaving a
// leased hour to its holder; the scale-out plan taking the lease and finish giving it back.

#include <gtest/gtest.h>

#include "core/json_reader.h"
#include "core/run_id.h"
#include "export/hour_lease.h"
#include "export/hours.h"
#include "export/scale_out.h"
#include "export/scale_out/run.h"
#include "export/summary.h"
#include "support/fake_ports.h"
#include "support/world.h"

namespace es::exporter {
namespace {

using es::testing::FakeStore;
using es::testing::FakeStoreData;

const HourWindow kHour = *HourWindow::parse_hour("2026-11-29T10");
const std::int64_t kNow = kHour.end_us() + 5 * 60 * kMicrosPerSecond;  // 11:05
constexpr std::int64_t kTtl = 3600 * kMicrosPerSecond;

/// An ops bucket in a store of its own. Each test names its bucket: whether a server honours
/// conditions is remembered per process and bucket.
struct Leases {
  FakeStoreData data;
  FakeStore store{data};
  ExportConfig config;
  std::int64_t now = kNow;

  explicit Leases(std::string_view bucket, bool ignore_conditions = false) {
    config.ops_bucket = std::string(bucket);
    data.buckets = {config.ops_bucket};
    data.ignore_conditions = ignore_conditions;
  }
  HourLeases as(std::string run_id) {
    return HourLeases(store, config, LeaseTerms{std::move(run_id), "host test pid 1", kTtl},
                      [this] { return now; });
  }
  std::string id() const { return config.ops_bucket + "/" + lease_key(kHour); }
  bool exists() const { return data.objects.contains(id()); }
  LeaseBody body() const { return *parse_lease(data.objects.at(id()).body); }
  /// A lease of another run written straight into the store.
  void put_lease(std::string_view run_id, std::int64_t expires_us) {
    LeaseBody b{std::string(run_id), "host other pid 2", expires_us - kTtl, expires_us};
    const std::string text = render_lease(b);
    data.objects[id()] = es::testing::StoredObject{text, {}, hex_encode(md5(text)), data.last_modified};
  }
};

TEST(HourLease, KeyAndDocumentRoundTrip) {
  EXPECT_EQ(lease_key(kHour), "locks/2026-11-29T10.json");
  const LeaseBody b{"run-1", "host h pid 7", kNow, kNow + kTtl};
  const std::string text = render_lease(b);
  EXPECT_NE(text.find(R"("expires_at":"2026-11-29T12:05:00.000000Z")"), std::string::npos) << text;
  auto back = parse_lease(text);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->run_id, "run-1");
  EXPECT_EQ(back->holder, "host h pid 7");
  EXPECT_EQ(back->acquired_us, kNow);
  EXPECT_EQ(back->expires_us, kNow + kTtl);

  auto missing = parse_lease(R"({"run_id":"r","acquired_at":"2026-11-29T10:00:00Z"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().to_string().find("lease"), std::string::npos) << missing.error().to_string();
  EXPECT_NE(missing.error().to_string().find("expires_at"), std::string::npos) << missing.error().to_string();
}

TEST(HourLease, HttpDates) {
  auto t = parse_http_date_us("Sun, 29 Nov 2026 10:00:00 GMT");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(*t, kHour.start_us);
  EXPECT_FALSE(parse_http_date_us("2026-11-29T10:00:00Z").ok());
  EXPECT_FALSE(parse_http_date_us("Sun, 31 Nov 2026 10:00:00 GMT").ok());
  EXPECT_FALSE(parse_http_date_us("").ok());
}

TEST(RunId, IsTimeThenRandom) {
  const std::string a = make_run_id(kNow);
  const std::string b = make_run_id(kNow);
  EXPECT_TRUE(a.starts_with("20261129T110500Z-")) << a;
  EXPECT_EQ(a.size(), std::string("20261129T110500Z-").size() + 16);
  EXPECT_NE(a, b);
}

TEST(HourLease, AcquiresAFreeHourAndReleasesIt) {
  Leases l("lease-acquire");
  HourLeases leases = l.as("run-a");
  auto lease = leases.acquire(kHour);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  EXPECT_TRUE(lease->acquired);
  EXPECT_FALSE(lease->taken_over);
  ASSERT_TRUE(l.exists());
  EXPECT_EQ(lease->etag, l.data.objects.at(l.id()).etag);
  EXPECT_EQ(l.body().run_id, "run-a");
  EXPECT_EQ(l.body().holder, "host test pid 1");
  EXPECT_EQ(l.body().expires_us, kNow + kTtl);
  EXPECT_TRUE(l.data.objects.at(l.id()).options.if_none_match);
  // The probe object is gone; only the lease is left.
  EXPECT_EQ(l.data.objects.size(), 1u);

  ASSERT_TRUE(leases.release(kHour, *lease).ok());
  EXPECT_FALSE(l.exists());
  // A lease already gone is fine.
  EXPECT_TRUE(leases.release(kHour, *lease).ok());
}

TEST(HourLease, AnUnexpiredLeaseOfAnotherRunIsHeldNotAnError) {
  Leases l("lease-held");
  l.put_lease("run-b", kNow + 10 * kMicrosPerSecond);
  HourLeases leases = l.as("run-a");
  auto lease = leases.acquire(kHour);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  EXPECT_FALSE(lease->acquired);
  EXPECT_EQ(lease->holder_run_id, "run-b");
  EXPECT_EQ(lease->holder, "host other pid 2");
  EXPECT_EQ(lease->until_us, kNow + 10 * kMicrosPerSecond);
  EXPECT_EQ(l.body().run_id, "run-b");  // untouched
}

TEST(HourLease, OurOwnLeaseIsOurs) {
  // A retried PUT whose first answer was lost, or a scale-out plan under `run --workers`.
  Leases l("lease-own");
  l.put_lease("run-a", kNow + kTtl);
  auto lease = l.as("run-a").acquire(kHour);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  EXPECT_TRUE(lease->acquired);
  EXPECT_EQ(lease->etag, l.data.objects.at(l.id()).etag);
}

TEST(HourLease, AnExpiredLeaseIsTakenOverWithIfMatch) {
  Leases l("lease-expired");
  l.put_lease("run-b", kNow - 1);
  const std::string old_etag = l.data.objects.at(l.id()).etag;
  auto lease = l.as("run-a").acquire(kHour);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  EXPECT_TRUE(lease->acquired);
  EXPECT_TRUE(lease->taken_over);
  EXPECT_EQ(l.body().run_id, "run-a");
  EXPECT_EQ(l.data.objects.at(l.id()).options.if_match, old_etag);
  EXPECT_EQ(lease->etag, l.data.objects.at(l.id()).etag);
}

TEST(HourLease, ALostTakeoverRaceLeavesTheHourToTheWinner) {
  Leases l("lease-race");
  l.put_lease("run-b", kNow - 1);
  // Between our read of the expired lease and our takeover, run-c takes it over.
  bool raced = false;
  l.data.on_request = [&](FakeStoreData& data, std::string_view, const std::string& id) {
    if (raced) return;
    raced = true;
    const std::string text = render_lease({"run-c", "host c pid 3", kNow, kNow + kTtl});
    data.objects[id] = es::testing::StoredObject{text, {}, hex_encode(md5(text)), data.last_modified};
  };
  auto lease = l.as("run-a").acquire(kHour);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  EXPECT_FALSE(lease->acquired);
  EXPECT_EQ(lease->holder_run_id, "run-c");
  EXPECT_EQ(lease->until_us, kNow + kTtl);
  EXPECT_EQ(l.body().run_id, "run-c");
}

TEST(HourLease, ReleaseLeavesALeaseTakenOverByAnotherRun) {
  Leases l("lease-lost");
  HourLeases leases = l.as("run-a");
  auto lease = leases.acquire(kHour);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  l.put_lease("run-b", kNow + kTtl);  // ours expired; run-b took it over
  EXPECT_TRUE(leases.release(kHour, *lease).ok());
  EXPECT_EQ(l.body().run_id, "run-b");

  // release_held_by deletes only the named run's lease.
  EXPECT_TRUE(leases.release_held_by(kHour, "run-a").ok());
  EXPECT_TRUE(l.exists());
  EXPECT_TRUE(leases.release_held_by(kHour, "run-b").ok());
  EXPECT_FALSE(l.exists());
  EXPECT_TRUE(leases.release_held_by(kHour, "run-b").ok());
}

TEST(HourLease, AnUnreadableLeaseIsHeldForOneLeaseFromItsLastWrite) {
  Leases l("lease-unreadable");
  l.data.objects[l.id()] =
      es::testing::StoredObject{"not json", {}, "e-junk", "Sun, 29 Nov 2026 10:30:00 GMT"};
  l.now = kHour.start_us + 90 * 60 * kMicrosPerSecond - 1;  // just before 10:30 + 1 h
  auto held = l.as("run-a").acquire(kHour);
  ASSERT_TRUE(held.ok()) << held.error().to_string();
  EXPECT_FALSE(held->acquired);
  EXPECT_EQ(held->holder_run_id, "");
  EXPECT_EQ(held->until_us, kHour.start_us + 90 * 60 * kMicrosPerSecond);

  l.now += 1;  // then it has expired: taken over
  auto taken = l.as("run-a").acquire(kHour);
  ASSERT_TRUE(taken.ok()) << taken.error().to_string();
  EXPECT_TRUE(taken->acquired);
  EXPECT_TRUE(taken->taken_over);
  EXPECT_EQ(l.body().run_id, "run-a");

  // Without a readable Last-Modified it cannot be judged: taken over at once.
  Leases d("lease-undated");
  d.data.objects[d.id()] = es::testing::StoredObject{"{}", {}, "e-junk", ""};
  auto undated = d.as("run-a").acquire(kHour);
  ASSERT_TRUE(undated.ok()) << undated.error().to_string();
  EXPECT_TRUE(undated->acquired);
}

TEST(HourLease, AServerIgnoringConditionsIsDetectedAndNoLeaseIsWritten) {
  Leases l("lease-ignored", /*ignore_conditions=*/true);
  l.put_lease("run-b", kNow + kTtl);
  HourLeases leases = l.as("run-a");
  auto honoured = leases.conditions_honoured();
  ASSERT_TRUE(honoured.ok()) << honoured.error().to_string();
  EXPECT_FALSE(*honoured);
  auto lease = leases.acquire(kHour);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  EXPECT_TRUE(lease->acquired);  // nothing could hold it
  EXPECT_TRUE(lease->etag.empty());
  EXPECT_EQ(l.body().run_id, "run-b");  // not overwritten
  EXPECT_TRUE(leases.release(kHour, *lease).ok());
  EXPECT_TRUE(l.exists());
  // The probe object is gone, and the probe is not repeated.
  EXPECT_EQ(l.data.objects.size(), 1u);
  const std::size_t writes = l.data.put_order.size();
  ASSERT_TRUE(leases.acquire(kHour).ok());
  EXPECT_EQ(l.data.put_order.size(), writes);

  Leases honouring("lease-honoured");
  auto yes = honouring.as("run-a").conditions_honoured();
  ASSERT_TRUE(yes.ok());
  EXPECT_TRUE(*yes);
}

TEST(HourLease, AnOpsBucketThatCannotBeWrittenIsAnError) {
  Leases l("lease-no-bucket");
  l.data.buckets.clear();
  auto lease = l.as("run-a").acquire(kHour);
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().kind, ErrorKind::kNotFound);
}

// ---------------------------------------------------------------- export_hours

std::string item(std::string_view id, std::string_view time) {
  return fmt::format(R"({{"eventId":{{"S":"{}"}},"clientId":{{"S":"acme"}},"time":{{"S":"{}"}}}})", id, time);
}

struct World : es::testing::World {
  World() : es::testing::World("lw", {"acme"}, 1, {item("e1", "2026-11-29T10:10:00Z")}) {}
  std::string lock_id() const { return config.ops_bucket + "/" + lease_key(kHour); }

  HoursOutcome run(std::string run_id, bool dry_run = false) {
    ExportOptions options;
    options.run_id = std::move(run_id);
    options.dry_run = dry_run;
    Exporter exporter = exporter_at(kNow, options);
    return export_hours(exporter, {{kHour, false}}, [&](const HourWindow& w) {
      // The lease is held while the hour runs.
      EXPECT_TRUE(store.objects.contains(lock_id()));
      return exporter.export_hour(w);
    });
  }
};

TEST(ExportHoursLease, TakesEachHoursLeaseAndGivesItBack) {
  World w;
  HoursOutcome out = w.run("run-a");
  ASSERT_EQ(out.summary.hours.size(), 1u);
  EXPECT_EQ(out.summary.hours[0].status, HourStatus::kExported);
  EXPECT_TRUE(w.store.objects.contains("lw-acme/events-2026-11-29-10.json"));
  EXPECT_FALSE(w.store.objects.contains(w.lock_id()));
}

TEST(ExportHoursLease, ALeasedHourIsReportedAndNotRun) {
  World w;
  const std::string text = render_lease({"run-b", "host b pid 2", kNow, kNow + kTtl});
  w.store.objects[w.lock_id()] = es::testing::StoredObject{text, {}, hex_encode(md5(text)), ""};
  ExportOptions options;
  options.run_id = "run-a";
  Exporter exporter = w.exporter_at(kNow, options);
  int runs = 0;
  HoursOutcome out = export_hours(exporter, {{kHour, false}}, [&](const HourWindow& h) {
    ++runs;
    return exporter.export_hour(h);
  });
  EXPECT_EQ(runs, 0);
  ASSERT_EQ(out.summary.hours.size(), 1u);
  const HourReport& r = out.summary.hours[0];
  EXPECT_EQ(r.status, HourStatus::kLeased);
  EXPECT_EQ(r.leased_by, "run-b");
  EXPECT_EQ(r.leased_until_us, kNow + kTtl);
  EXPECT_FALSE(w.store.objects.contains("lw-acme/events-2026-11-29-10.json"));
  EXPECT_TRUE(w.store.objects.contains(w.lock_id()));  // still run-b's

  // Not a failure: exit code 0; the summary names the holder.
  EXPECT_EQ(exit_code(out.summary), 0);
  const RunTotals totals = out.summary.totals();
  EXPECT_EQ(totals.hours_leased, 1);
  EXPECT_EQ(totals.hours_exported, 0);
  const std::string json = render_summary(out.summary);
  auto doc = json::parse_document(json, "summary");
  ASSERT_TRUE(doc.ok()) << json;
  EXPECT_EQ(*doc->uint64("hours_leased"), 1u);
  auto hours = doc->array("hours");
  ASSERT_TRUE(hours.ok());
  EXPECT_EQ(*(*hours)[0].string("status"), "leased");
  EXPECT_EQ(*(*hours)[0].string("leased_by"), "run-b");
  EXPECT_EQ(*(*hours)[0].string("leased_until"), "2026-11-29T12:05:00.000000Z");
}

TEST(ExportHoursLease, AFailedHourGivesItsLeaseBack) {
  World w;
  w.table.fail_with = Error::io("table", "down");
  HoursOutcome out = w.run("run-a");
  ASSERT_EQ(out.summary.hours.size(), 1u);
  EXPECT_EQ(out.summary.hours[0].status, HourStatus::kFailed);
  EXPECT_FALSE(w.store.objects.contains(w.lock_id()));
}

TEST(ExportHoursLease, NoLeaseOnADryRunOrWithoutARunId) {
  for (const bool dry_run : {true, false}) {
    World w;
    const std::string text = render_lease({"run-b", "host b pid 2", kNow, kNow + kTtl});
    w.store.objects[w.lock_id()] = es::testing::StoredObject{text, {}, hex_encode(md5(text)), ""};
    ExportOptions options;
    options.run_id = dry_run ? "run-a" : "";
    options.dry_run = dry_run;
    Exporter exporter = w.exporter_at(kNow, options);
    HoursOutcome out = export_hours(exporter, {{kHour, false}},
                                    [&](const HourWindow& h) { return exporter.export_hour(h); });
    ASSERT_EQ(out.summary.hours.size(), 1u);
    EXPECT_NE(out.summary.hours[0].status, HourStatus::kLeased);
  }
}

TEST(ExportHoursLease, HoursOptionsNameTheHolderAndTheDuration) {
  World w;
  ExportOptions options;
  options.run_id = "run-exporter";
  Exporter exporter = w.exporter_at(kNow, options);
  HoursOptions hours;
  hours.run_id = "request-1";
  hours.lease_holder = "lambda request request-1";
  hours.lease_ttl_us = 90 * kMicrosPerSecond;
  std::string seen;
  HoursOutcome out = export_hours(
      exporter, {{kHour, false}},
      [&](const HourWindow& h) {
        seen = w.store.objects.at(w.lock_id()).body;
        return exporter.export_hour(h);
      },
      hours);
  auto lease = parse_lease(seen);
  ASSERT_TRUE(lease.ok()) << seen;
  EXPECT_EQ(lease->run_id, "request-1");
  EXPECT_EQ(lease->holder, "lambda request request-1");
  EXPECT_EQ(lease->expires_us, kNow + 90 * kMicrosPerSecond);
}

// ---------------------------------------------------------------- scale-out: plan takes, finish gives back

TEST(ScaleOutLease, ThePlanTakesTheLeaseAndFinishGivesItBack) {
  World w;
  Exporter exporter = w.exporter_at(kNow);
  ScaleOut stages(exporter, "exec-1");
  auto planned = stages.plan(kHour, 2, false);
  ASSERT_TRUE(planned.ok()) << planned.error().to_string();
  EXPECT_FALSE(planned->leased);
  ASSERT_TRUE(w.store.objects.contains(w.lock_id()));
  EXPECT_EQ(parse_lease(w.store.objects.at(w.lock_id()).body)->run_id, "exec-1");
  auto plan = parse_plan(w.store.objects.at(w.config.ops_bucket + "/" + plan_key(kHour)).body);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->lease_run_id, "exec-1");

  // The rest of the hour, as a state machine runs it (another invocation: no run id of its own).
  InProcessStageRunner runner(exporter);
  for (int unit = 0; unit < 2; ++unit) ASSERT_TRUE(runner.work(kHour, unit).ok());
  auto clients = runner.list_clients(kHour);
  ASSERT_TRUE(clients.ok());
  for (const std::string& client : *clients) ASSERT_TRUE(runner.merge(kHour, client).ok());
  auto report = runner.finish(kHour);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->status, HourStatus::kExported);
  EXPECT_FALSE(w.store.objects.contains(w.lock_id()));
}

TEST(ScaleOutLease, APlanFindingTheHourLeasedPlansNothing) {
  World w;
  const std::string text = render_lease({"run-b", "host b pid 2", kNow, kNow + kTtl});
  w.store.objects[w.lock_id()] = es::testing::StoredObject{text, {}, hex_encode(md5(text)), ""};
  ExportOptions options;
  options.run_id = "exec-1";
  Exporter exporter = w.exporter_at(kNow, options);
  ScaleOut stages(exporter);
  auto planned = stages.plan(kHour, 2, false);
  ASSERT_TRUE(planned.ok()) << planned.error().to_string();
  EXPECT_TRUE(planned->leased);
  EXPECT_EQ(planned->leased_by, "run-b");
  EXPECT_FALSE(w.store.objects.contains(w.config.ops_bucket + "/" + plan_key(kHour)));
  auto output = json::parse_document(render_plan_output(*planned), "plan output");
  ASSERT_TRUE(output.ok());
  EXPECT_TRUE(*output->boolean("leased"));
  EXPECT_EQ(*output->string("leased_by"), "run-b");
  EXPECT_EQ(output->array("units")->size(), 0u);

  InProcessStageRunner runner(exporter);
  auto report = run_scaled_out_hour(runner, kHour, 2);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->status, HourStatus::kLeased);
  EXPECT_EQ(report->leased_by, "run-b");
}

TEST(ScaleOutLease, RunWithWorkersHoldsOneLeaseFromStartToFinish) {
  // export_hours takes the lease, the plan finds it its own (same run id), finish deletes it.
  World w;
  ExportOptions options;
  options.run_id = "run-a";
  Exporter exporter = w.exporter_at(kNow, options);
  InProcessStageRunner runner(exporter);
  HoursOutcome out = export_hours(exporter, {{kHour, false}},
                                  [&](const HourWindow& h) { return run_scaled_out_hour(runner, h, 2); });
  ASSERT_EQ(out.summary.hours.size(), 1u);
  EXPECT_EQ(out.summary.hours[0].status, HourStatus::kExported) << out.summary.hours[0].error;
  EXPECT_FALSE(w.store.objects.contains(w.lock_id()));
  EXPECT_TRUE(w.store.objects.contains("lw-acme/events-2026-11-29-10.json"));
}

// The exporter's own reads (one scan for the hours): the same leases.
TEST(ExportHoursLease, OneScanTakesEveryLeaseFirstAndLeavesAHeldHourAlone) {
  World w;
  const HourWindow next = kHour.next();
  w.table.items.push_back(item("e2", "2026-11-29T11:20:00Z"));
  const std::string held_id = w.config.ops_bucket + "/" + lease_key(next);
  const std::string text = render_lease({"run-b", "host b pid 2", kNow, kNow + kTtl});
  w.store.objects[held_id] = es::testing::StoredObject{text, {}, hex_encode(md5(text)), ""};
  ExportOptions options;
  options.run_id = "run-a";
  Exporter exporter = w.exporter_at(kNow, options);
  HoursOutcome out = export_hours(exporter, {{kHour, false}, {next, false}}, HoursOptions{});
  ASSERT_EQ(out.summary.hours.size(), 2u);
  EXPECT_EQ(out.summary.hours[0].status, HourStatus::kExported);
  EXPECT_EQ(out.summary.hours[1].status, HourStatus::kLeased);
  EXPECT_EQ(out.summary.hours[1].leased_by, "run-b");
  EXPECT_TRUE(w.store.objects.contains("lw-acme/events-2026-11-29-10.json"));
  EXPECT_FALSE(w.store.objects.contains("lw-acme/events-2026-11-29-11.json"));
  EXPECT_FALSE(w.store.objects.contains(w.lock_id()));  // ours, given back
  EXPECT_TRUE(w.store.objects.contains(held_id));       // still run-b's
  // The manifest names the run that wrote it.
  auto manifest = parse_manifest(w.store.objects.at("lw-ops/" + manifest_key(kHour)).body);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->run_id, "run-a");
}

TEST(ExportHoursLease, OneScanThatFailsGivesEveryLeaseBack) {
  World w;
  w.table.fail_with = Error::io("table", "down");
  ExportOptions options;
  options.run_id = "run-a";
  Exporter exporter = w.exporter_at(kNow, options);
  HoursOutcome out = export_hours(exporter, {{kHour, false}, {kHour.next(), true}}, HoursOptions{});
  ASSERT_EQ(out.summary.hours.size(), 2u);
  for (const HourReport& h : out.summary.hours) EXPECT_EQ(h.status, HourStatus::kFailed);
  EXPECT_FALSE(w.store.objects.contains(w.lock_id()));
  EXPECT_FALSE(w.store.objects.contains(w.config.ops_bucket + "/" + lease_key(kHour.next())));
}

}  // namespace
}  // namespace es::exporter
