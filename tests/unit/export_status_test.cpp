// The status model (export/status.h): the state of an hour from its manifest or its lease, each
// client's totals and undeliverable hours, the exit code, and reading a range of hours from the ops
// bucket of an in-memory store (manifests written as the exporter writes them, leases as JSON).

#include <gtest/gtest.h>

#include "core/manifest.h"
#include "export/status.h"
#include "support/fake_ports.h"

namespace es::exporter {
namespace {

using es::testing::FakeStoreData;
using es::testing::FakeTableData;

const HourWindow kHour = *HourWindow::parse_hour("2026-11-29T10");
const std::int64_t kNow = *parse_iso8601_us("2026-11-29T13:05:00Z");

ManifestObject object(std::string_view client, const HourWindow& hour, std::uint64_t events,
                      ObjectStatus status = ObjectStatus::kDelivered) {
  ManifestObject o;
  o.client = std::string(client);
  o.bucket = fmt::format("st-{}", client);
  o.key = fmt::format("events-{}.json", hour.key_date_part());
  o.status = status;
  o.events = events;
  o.bytes = events * 100;
  if (status == ObjectStatus::kUndeliverable) {
    o.error = "NoSuchBucket";
    o.undeliverable_key = fmt::format("undeliverable/{}/{}", client, o.key);
  }
  return o;
}

/// A manifest of hour holding objects, its counts added up from them (and `rejected` more read).
Manifest manifest(const HourWindow& hour, std::vector<ManifestObject> objects, std::uint64_t rejected = 0,
                  std::uint64_t revision = 1) {
  Manifest m;
  m.window = hour;
  m.revision = revision;
  m.reason = revision > 1 ? RevisionReason::kLateEvents : RevisionReason::kFirstExport;
  m.table = "events";
  m.events_rejected = rejected;
  m.events_read = rejected;
  for (const ManifestObject& o : objects) {
    m.events_read += o.events;
    (o.status == ObjectStatus::kDelivered ? m.events_delivered : m.events_undeliverable) += o.events;
  }
  m.objects = std::move(objects);
  m.duration_ms = 1234;
  m.generated_at = "2026-11-29T11:00:05.000000Z";
  return m;
}

HourLock lock_until(std::int64_t expires_at_us) {
  return HourLock{"run-7", "host-a/pid-42", expires_at_us - 15 * kMicrosPerMinute, expires_at_us};
}

TEST(HourOverview, AManifestWithEveryObjectDeliveredIsComplete) {
  const HourOverview h = hour_overview(
      kHour, manifest(kHour, {object("acme", kHour, 5), object("beta", kHour, 7)}, 2), {}, kNow);
  EXPECT_EQ(h.state, HourState::kComplete);
  EXPECT_FALSE(h.revised());
  EXPECT_EQ(h.revision, 1u);
  EXPECT_EQ(h.events_read, 14u);
  EXPECT_EQ(h.events_delivered, 12u);
  EXPECT_EQ(h.events_rejected, 2u);
  EXPECT_EQ(h.clients, 2u);
  EXPECT_EQ(h.bytes, 1200u);
  EXPECT_EQ(h.duration_ms, 1234);
  EXPECT_EQ(h.manifest_key, "manifests/2026/11/29/10.json");
  ASSERT_EQ(h.objects.size(), 2u);
  EXPECT_EQ(h.objects[0].client, "acme");
}

TEST(HourOverview, AnUndeliverableObjectMakesTheHourCompleteUndeliverable) {
  const HourOverview h = hour_overview(
      kHour,
      manifest(kHour, {object("acme", kHour, 5), object("gone", kHour, 3, ObjectStatus::kUndeliverable)}), {},
      kNow);
  EXPECT_EQ(h.state, HourState::kCompleteUndeliverable);
  EXPECT_EQ(h.events_undeliverable, 3u);
  EXPECT_EQ(h.objects[1].undeliverable_key, "undeliverable/gone/events-2026-11-29-10.json");
}

TEST(HourOverview, RevisedIsAFlagBesideTheState) {
  const HourOverview h = hour_overview(kHour, manifest(kHour, {object("acme", kHour, 5)}, 0, 3), {}, kNow);
  EXPECT_EQ(h.state, HourState::kComplete);
  EXPECT_TRUE(h.revised());
  EXPECT_EQ(h.revision, 3u);
  EXPECT_EQ(h.reason, "late_events");
  const HourOverview u = hour_overview(
      kHour, manifest(kHour, {object("gone", kHour, 3, ObjectStatus::kUndeliverable)}, 0, 2), {}, kNow);
  EXPECT_EQ(u.state, HourState::kCompleteUndeliverable);
  EXPECT_TRUE(u.revised());
}

TEST(HourOverview, AManifestWinsOverALease) {
  const HourOverview h = hour_overview(kHour, manifest(kHour, {object("acme", kHour, 5)}),
                                       lock_until(kNow + kMicrosPerHour), kNow);
  EXPECT_EQ(h.state, HourState::kComplete);
  EXPECT_FALSE(h.lock);
}

TEST(HourOverview, WithoutAManifestTheLeaseDecides) {
  EXPECT_EQ(hour_overview(kHour, std::nullopt, std::nullopt, kNow).state, HourState::kMissing);
  const HourOverview running = hour_overview(kHour, std::nullopt, lock_until(kNow + 1), kNow);
  EXPECT_EQ(running.state, HourState::kInProgress);
  ASSERT_TRUE(running.lock);
  EXPECT_EQ(running.lock->run_id, "run-7");
  // Expired at this very microsecond: the run is gone.
  const HourOverview died = hour_overview(kHour, std::nullopt, lock_until(kNow), kNow);
  EXPECT_EQ(died.state, HourState::kFailed);
  EXPECT_NE(died.note.find("run-7"), std::string::npos) << died.note;
  EXPECT_EQ(died.revision, 0u);
  EXPECT_FALSE(died.complete());
}

TEST(HourLockDocument, ReadsTheLeaseFieldsAndNamesABadOne) {
  auto lock = parse_hour_lock(
      R"({"run_id":"r1","holder":"h","acquired_at":"2026-11-29T11:00:00Z","expires_at":"2026-11-29T11:15:00Z"})");
  ASSERT_TRUE(lock.ok()) << lock.error().to_string();
  EXPECT_EQ(lock->run_id, "r1");
  EXPECT_EQ(lock->expires_at_us - lock->acquired_at_us, 15 * kMicrosPerMinute);
  auto bad = parse_hour_lock(
      R"({"run_id":"r1","holder":"h","acquired_at":"2026-11-29T11:00:00Z","expires_at":"soon"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("expires_at"), std::string::npos) << bad.error().to_string();
  EXPECT_EQ(lock_key(kHour), "locks/2026-11-29T10.json");
}

std::vector<HourOverview> week_sample() {
  std::vector<HourOverview> hours;
  const HourWindow h0 = kHour;
  const HourWindow h1 = h0.next();
  const HourWindow h2 = h1.next();
  const HourWindow h3 = h2.next();
  hours.push_back(hour_overview(
      h0, manifest(h0, {object("acme", h0, 5), object("gone", h0, 2, ObjectStatus::kUndeliverable)}), {},
      kNow));
  hours.push_back(hour_overview(
      h1, manifest(h1, {object("acme", h1, 6), object("gone", h1, 4, ObjectStatus::kUndeliverable)}), {},
      kNow));
  hours.push_back(
      hour_overview(h2, manifest(h2, {object("beta", h2, 1), object("gone", h2, 8)}, 1, 2), {}, kNow));
  hours.push_back(
      hour_overview(h3, manifest(h3, {object("gone", h3, 3, ObjectStatus::kUndeliverable)}), {}, kNow));
  return hours;
}

TEST(ClientTotals, AddUpEachClientAndListItsUndeliverableHours) {
  const std::vector<ClientOverview> clients = aggregate_clients(week_sample());
  ASSERT_EQ(clients.size(), 3u);
  EXPECT_EQ(clients[0].client, "acme");
  EXPECT_EQ(clients[0].events, 11u);
  EXPECT_EQ(clients[0].hours, 2u);
  EXPECT_TRUE(clients[0].undeliverable_hours.empty());
  EXPECT_EQ(clients[1].client, "beta");
  const ClientOverview& gone = clients[2];
  EXPECT_EQ(gone.events, 17u);
  EXPECT_EQ(gone.events_delivered, 8u);
  EXPECT_EQ(gone.events_undeliverable, 9u);
  EXPECT_EQ(gone.bytes, 1700u);
  ASSERT_EQ(gone.undeliverable_hours.size(), 3u);
  EXPECT_EQ(gone.undeliverable_hours[0], kHour);
  EXPECT_EQ(gone.undeliverable_hours[2], kHour.next().next().next());
}

TEST(StatusExitCode, MissingOrFailedBeatsUndeliverableWhichBeatsComplete) {
  ExportConfig config;
  const HourWindow h = kHour;
  const auto code = [&](std::vector<HourOverview> hours) {
    return status_exit_code(make_status_report(config, std::move(hours), kNow));
  };
  const HourOverview complete = hour_overview(h, manifest(h, {object("acme", h, 5)}), {}, kNow);
  const HourOverview undeliverable = hour_overview(
      h.next(), manifest(h.next(), {object("gone", h.next(), 1, ObjectStatus::kUndeliverable)}), {}, kNow);
  const HourOverview missing = hour_overview(h.next().next(), std::nullopt, std::nullopt, kNow);
  const HourOverview failed = hour_overview(h.next().next(), std::nullopt, lock_until(kNow - 1), kNow);
  const HourOverview running = hour_overview(h.next().next(), std::nullopt, lock_until(kNow + 1), kNow);
  EXPECT_EQ(code({complete}), 0);
  EXPECT_EQ(code({complete, undeliverable}), 3);
  EXPECT_EQ(code({complete, missing}), 1);
  EXPECT_EQ(code({undeliverable, missing}), 1);
  EXPECT_EQ(code({complete, failed}), 1);
  EXPECT_EQ(code({complete, running}), 0);  // still being exported: neither done nor lost
  EXPECT_EQ(code({undeliverable, running}), 3);
  EXPECT_EQ(code({}), 0);
}

struct OpsBucket {
  FakeStoreData store;
  ExportConfig config;
  OpsBucket() {
    config.ops_bucket = "st-ops";
    store.buckets = {config.ops_bucket};
  }
  void put(const std::string& key, std::string body) {
    store.objects[config.ops_bucket + "/" + key] = {std::move(body), {}};
  }
  Result<StatusReport> read(const std::vector<HourWindow>& hours, int concurrency = 3) {
    StatusOptions options;
    options.concurrency = concurrency;
    options.now_us = kNow;
    FakeTableData unused_table;
    return read_status(hours, config, es::testing::fake_ports(unused_table, store), options);
  }
};

TEST(ReadStatus, ReadsEachHourOfTheRangeFromTheOpsBucket) {
  OpsBucket ops;
  std::vector<HourWindow> hours;
  for (int i = 0; i < 8; ++i) hours.push_back(HourWindow{kHour.start_us + i * kMicrosPerHour});
  ops.put(manifest_key(hours[0]), render_manifest(manifest(hours[0], {object("acme", hours[0], 5)})));
  ops.put(manifest_key(hours[1]),
          render_manifest(manifest(hours[1], {object("gone", hours[1], 2, ObjectStatus::kUndeliverable)})));
  ops.put(manifest_key(hours[2]), render_manifest(manifest(hours[2], {object("acme", hours[2], 5)}, 0, 2)));
  // hours[3]: nothing at all.
  ops.put(
      lock_key(hours[4]),
      R"({"run_id":"r4","holder":"h","acquired_at":"2026-11-29T13:00:00Z","expires_at":"2026-11-29T13:15:00Z"})");
  ops.put(
      lock_key(hours[5]),
      R"({"run_id":"r5","holder":"h","acquired_at":"2026-11-29T12:00:00Z","expires_at":"2026-11-29T12:15:00Z"})");
  ops.put(manifest_key(hours[6]), "{not json");
  ops.put(manifest_key(hours[7]), render_manifest(manifest(hours[7], {object("acme", hours[7], 1)})));
  ops.put(lock_key(hours[7]), "a lease a finished run left behind is never read");

  auto report = ops.read(hours);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_EQ(report->hours.size(), 8u);
  std::vector<HourState> states;
  for (const HourOverview& h : report->hours) states.push_back(h.state);
  EXPECT_EQ(states, (std::vector<HourState>{HourState::kComplete, HourState::kCompleteUndeliverable,
                                            HourState::kComplete, HourState::kMissing, HourState::kInProgress,
                                            HourState::kFailed, HourState::kFailed, HourState::kComplete}));
  EXPECT_TRUE(report->hours[2].revised());
  EXPECT_NE(report->hours[6].note.find("does not parse"), std::string::npos) << report->hours[6].note;
  EXPECT_EQ(report->from, hours.front());
  EXPECT_EQ(report->to, hours.back());
  EXPECT_EQ(report->totals.events_read, 13u);
  EXPECT_EQ(report->clients.size(), 2u);
  EXPECT_EQ(report->count(HourState::kFailed), 2u);
  EXPECT_EQ(report->revised_hours(), 1u);
  EXPECT_EQ(status_exit_code(*report), 1);
}

TEST(ReadStatus, AMissingOpsBucketIsAnErrorNotMissingHours) {
  OpsBucket ops;
  ops.store.buckets.clear();
  auto report = ops.read({kHour, kHour.next()});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "NoSuchBucket");
}

TEST(ReadStatus, AWeekReadsInParallelInHourOrder) {
  OpsBucket ops;
  std::vector<HourWindow> hours;
  for (int i = 0; i < 168; ++i) {
    const HourWindow h{kHour.start_us + i * kMicrosPerHour};
    hours.push_back(h);
    if (i % 10 != 3)
      ops.put(manifest_key(h),
              render_manifest(manifest(h, {object("acme", h, static_cast<std::uint64_t>(1 + i))})));
  }
  auto report = ops.read(hours, 16);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  for (std::size_t i = 0; i < hours.size(); ++i) {
    EXPECT_EQ(report->hours[i].window, hours[i]);
    EXPECT_EQ(report->hours[i].state, i % 10 == 3 ? HourState::kMissing : HourState::kComplete);
  }
  EXPECT_EQ(report->count(HourState::kMissing), 17u);
}

}  // namespace
}  // namespace es::exporter
