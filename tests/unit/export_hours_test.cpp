// export_hours(): one scan for many hours, the catch-up's recheck (unchanged, late events, redelivery),
// revisions and their history, and clients whose events shrank.
#include <algorithm>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/hash.h"
#include "export/hours.h"
#include "support/world.h"

namespace es::exporter {
namespace {

const HourWindow kTen = *HourWindow::parse_hour("2026-11-29T10");
const HourWindow kEleven = kTen.next();
const HourWindow kTwelve = kEleven.next();

std::string item(std::string_view id, std::string_view client, std::string_view time, int payload = 0) {
  return fmt::format(
      R"({{"eventId":{{"S":"{}"}},"clientId":{{"S":"{}"}},"time":{{"S":"{}"}},"n":{{"N":"{}"}}}})", id,
      client, time, payload);
}

/// Three hours of events for acme and beta, one client without a bucket, a rejected event without a
/// time (every hour reports it) and one in an hour no run asks for.
std::vector<std::string> three_hours() {
  std::vector<std::string> items;
  for (int h = 10; h <= 12; ++h) {
    for (int i = 0; i < 5; ++i) {
      items.push_back(
          item(fmt::format("a{}-{}", h, i), "acme", fmt::format("2026-11-29T{}:{:02}:00Z", h, i * 7), i));
      items.push_back(
          item(fmt::format("b{}-{}", h, i), "beta", fmt::format("2026-11-29T{}:{:02}:30Z", h, i * 11), i));
    }
    items.push_back(item(fmt::format("n{}", h), "nobucket", fmt::format("2026-11-29T{}:30:00Z", h)));
  }
  items.push_back(R"({"eventId":{"S":"notime"},"clientId":{"S":"acme"}})");
  items.push_back(item("later", "acme", "2026-11-29T15:00:00Z"));
  return items;
}

struct World : es::testing::World {
  World() : es::testing::World("hr", {"acme", "beta"}, 3, three_hours()) {}

  HoursOutcome run(const std::vector<HourTask>& tasks, ExportOptions options = {}) {
    Exporter exporter = exporter_at(kTwelve.end_us() + kMicrosPerHour, options);
    return export_hours(exporter, tasks, HoursOptions{});
  }
  HourReport one(const HourWindow& w, bool catch_up, ExportOptions options = {}) {
    HoursOutcome out = run({{w, catch_up}}, options);
    EXPECT_EQ(out.summary.hours.size(), 1U);
    return out.summary.hours.empty() ? HourReport{} : out.summary.hours.front();
  }
  [[nodiscard]] std::string body(const std::string& id) const { return store.objects.at(id).body; }
  [[nodiscard]] bool has(const std::string& id) const { return store.objects.contains(id); }
  [[nodiscard]] Manifest manifest(const HourWindow& w) const {
    auto m = parse_manifest(body("hr-ops/" + manifest_key(w)));
    EXPECT_TRUE(m.ok()) << m.error().to_string();
    return m.ok() ? *m : Manifest{};
  }
  void remove_item(std::string_view id) {
    const std::string needle = fmt::format(R"("eventId":{{"S":"{}"}})", id);
    std::erase_if(table.items, [&](const std::string& i) { return i.find(needle) != std::string::npos; });
  }
};

TEST(ExportHours, OneScanReadsManyHoursAndWritesEachAsItsOwnRunWould) {
  World many;
  HoursOutcome out = many.run({{kTen, false}, {kEleven, false}, {kTwelve, false}});
  EXPECT_EQ(many.table.scans_started, 1);
  ASSERT_EQ(out.summary.hours.size(), 3U);
  for (const HourReport& h : out.summary.hours) {
    EXPECT_EQ(h.status, HourStatus::kUndeliverable) << h.window.label() << " " << h.error;
    EXPECT_TRUE(h.balanced());
    EXPECT_EQ(h.events_read, 12U);  // 10 events, nobucket's, and the rejected one without a time
    EXPECT_EQ(h.events_rejected, 1U);
    EXPECT_EQ(h.revision, 1U);
  }
  // What the scan cost is counted once: every item, on the first hour.
  EXPECT_EQ(out.summary.hours[0].items_scanned, many.table.items.size());
  EXPECT_EQ(out.summary.hours[1].items_scanned, 0U);
  EXPECT_EQ(out.summary.hours[0].out_of_window, 1U);

  // Each hour alone, in a world of its own: the same objects, rejected files and source digests.
  for (const HourWindow& w : {kTen, kEleven, kTwelve}) {
    World alone;
    ASSERT_EQ(alone.one(w, false).status, HourStatus::kUndeliverable);
    for (const char* key :
         {"hr-acme/events-{}.json", "hr-beta/events-{}.json", "hr-ops/undeliverable/nobucket/events-{}.json",
          "hr-ops/rejected/events-{}.json"}) {
      const std::string id = fmt::format(fmt::runtime(key), w.key_date_part());
      ASSERT_TRUE(many.has(id)) << id;
      EXPECT_EQ(many.body(id), alone.body(id)) << id;
    }
    EXPECT_EQ(many.manifest(w).source, alone.manifest(w).source) << w.label();
    EXPECT_EQ(many.manifest(w).objects.size(), alone.manifest(w).objects.size());
  }
}

TEST(ExportHours, AFailedScanFailsEveryHourItWasToRead) {
  World w;
  w.table.fail_with = Error::invalid_data("table", "broken");
  HoursOutcome out = w.run({{kTen, false}, {kEleven, true}});
  ASSERT_EQ(out.summary.hours.size(), 2U);
  for (const HourReport& h : out.summary.hours) EXPECT_EQ(h.status, HourStatus::kFailed);
  EXPECT_FALSE(w.has("hr-ops/" + manifest_key(kTen)));
}

TEST(ExportHours, QueryModeReadsEachHourWithItsOwnQueries) {
  World scan;
  World query;
  for (World* w : {&scan, &query}) {
    for (std::string& i : w->table.items) {
      // The hour shard query mode reads: "2026-11-29T10#00" for every event of 10:00 (one shard).
      const auto at = i.find("2026-11-29T");
      if (at == std::string::npos) continue;
      i.insert(i.size() - 1, fmt::format(R"(,"hourShard":{{"S":"{}#00"}})", i.substr(at, 13)));
    }
  }
  query.config.read_mode = ReadMode::kQuery;
  query.config.shards = 1;
  scan.run({{kTen, false}, {kEleven, false}});
  HoursOutcome out = query.run({{kTen, false}, {kEleven, false}});
  EXPECT_EQ(query.table.scans_started, 0);
  ASSERT_EQ(out.summary.hours.size(), 2U);
  // The event without a time sits in no shard: query mode does not see it.
  EXPECT_EQ(out.summary.hours[0].events_read, 11U);
  EXPECT_EQ(query.body("hr-acme/events-2026-11-29-10.json"), scan.body("hr-acme/events-2026-11-29-10.json"));
  EXPECT_EQ(query.body("hr-beta/events-2026-11-29-11.json"), scan.body("hr-beta/events-2026-11-29-11.json"));
}

TEST(ExportHours, ACatchUpLeavesAnUnchangedHourAlone) {
  World w;
  w.store.buckets.insert("hr-nobucket");  // nothing undeliverable: only the source decides
  ASSERT_EQ(w.one(kTen, false).status, HourStatus::kExported);
  const std::size_t writes = w.store.put_order.size();
  const HourReport again = w.one(kTen, true);
  EXPECT_EQ(again.status, HourStatus::kSkipped);
  EXPECT_EQ(again.skip_reason, "unchanged");
  EXPECT_EQ(again.revision, 1U);
  EXPECT_EQ(w.store.put_order.size(), writes);  // nothing written
  EXPECT_EQ(w.manifest(kTen).revision, 1U);
}

TEST(ExportHours, ALateEventIsExportedAsTheNextRevision) {
  World w;
  w.store.buckets.insert("hr-nobucket");
  ASSERT_EQ(w.one(kTen, false).status, HourStatus::kExported);
  const std::string first = w.body("hr-ops/" + manifest_key(kTen));
  w.table.items.push_back(item("late", "acme", "2026-11-29T10:59:00Z", 9));
  const HourReport late = w.one(kTen, true);
  EXPECT_EQ(late.status, HourStatus::kExported);
  EXPECT_EQ(late.revision, 2U);
  EXPECT_EQ(late.reason, RevisionReason::kLateEvents);
  const Manifest m = w.manifest(kTen);
  EXPECT_EQ(m.revision, 2U);
  EXPECT_EQ(m.reason, RevisionReason::kLateEvents);
  ASSERT_EQ(m.history.size(), 1U);
  EXPECT_EQ(m.history[0].revision, 1U);
  EXPECT_EQ(m.history[0].reason, RevisionReason::kFirstExport);
  EXPECT_EQ(m.history[0].sha256, hex_encode(sha256(first)));
  EXPECT_EQ(m.history[0].events_read, 12U);
  EXPECT_EQ(m.events_read, 13U);
  EXPECT_NE(w.body("hr-acme/events-2026-11-29-10.json").find("\"late\""), std::string::npos);
  // A changed event is a change too.
  for (std::string& i : w.table.items) {
    if (i.find("\"a10-1\"") != std::string::npos) i.replace(i.find(R"("N":"1")"), 7, R"("N":"7")");
  }
  EXPECT_EQ(w.one(kTen, true).revision, 3U);
  EXPECT_EQ(w.manifest(kTen).history.size(), 2U);
}

TEST(ExportHours, ARerunOfAnExportedHourIsAManualRerun) {
  World w;
  ASSERT_EQ(w.one(kEleven, false).revision, 1U);
  const HourReport rerun = w.one(kEleven, false);
  EXPECT_EQ(rerun.revision, 2U);
  EXPECT_EQ(rerun.reason, RevisionReason::kManualRerun);
  EXPECT_EQ(w.manifest(kEleven).reason, RevisionReason::kManualRerun);
  // Exporter::export_hour alone does the same.
  Exporter exporter = w.exporter_at(kTwelve.end_us());
  auto third = exporter.export_hour(kEleven);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->revision, 3U);
}

TEST(ExportHours, AClientWhoseEventsShrankIsLeftAsItWasUnlessAllowed) {
  World w;
  w.store.buckets.insert("hr-nobucket");
  ASSERT_EQ(w.one(kTen, false).status, HourStatus::kExported);
  const std::string acme = w.body("hr-acme/events-2026-11-29-10.json");
  const std::string beta = w.body("hr-beta/events-2026-11-29-10.json");
  w.remove_item("a10-2");                                                   // expired by the table's TTL
  w.table.items.push_back(item("b-late", "beta", "2026-11-29T10:45:00Z"));  // and beta has a late one
  const HourReport report = w.one(kTen, true);
  EXPECT_EQ(report.status, HourStatus::kExported);
  EXPECT_EQ(report.source_shrank, std::vector<std::string>{"acme"});
  EXPECT_TRUE(report.balanced());
  EXPECT_EQ(w.body("hr-acme/events-2026-11-29-10.json"), acme);  // left as it was
  EXPECT_NE(w.body("hr-beta/events-2026-11-29-10.json"), beta);  // beta's late event arrived
  const Manifest m = w.manifest(kTen);
  const auto entry = std::find_if(m.objects.begin(), m.objects.end(),
                                  [](const ManifestObject& o) { return o.client == "acme"; });
  ASSERT_NE(entry, m.objects.end());
  EXPECT_EQ(entry->events, 5U);
  EXPECT_EQ(entry->source_events, std::optional<std::uint64_t>(4));
  EXPECT_EQ(entry->sha256, hex_encode(sha256(acme)));

  // --allow-shrink: the object follows the table.
  ExportOptions allow;
  allow.allow_shrink = true;
  w.table.items.push_back(item("b-later", "beta", "2026-11-29T10:46:00Z"));
  const HourReport allowed = w.one(kTen, true, allow);
  EXPECT_TRUE(allowed.source_shrank.empty());
  EXPECT_NE(w.body("hr-acme/events-2026-11-29-10.json"), acme);
  EXPECT_EQ(w.body("hr-acme/events-2026-11-29-10.json").find("\"a10-2\""), std::string::npos);
}

TEST(ExportHours, ACatchUpDeliversAClientWhoseBucketAppeared) {
  World w;
  const HourReport first = w.one(kTen, false);
  ASSERT_EQ(first.status, HourStatus::kUndeliverable);
  const std::string copy_id = "hr-ops/undeliverable/nobucket/events-2026-11-29-10.json";
  const std::string copy = w.body(copy_id);

  // Still no bucket: still undeliverable, nothing new written.
  const std::size_t writes = w.store.put_order.size();
  const HourReport still = w.one(kTen, true);
  EXPECT_EQ(still.status, HourStatus::kUndeliverable);
  EXPECT_EQ(still.events_undeliverable, 1U);
  EXPECT_EQ(w.store.put_order.size(), writes);
  EXPECT_TRUE(w.has(copy_id));

  w.store.buckets.insert("hr-nobucket");
  const HourReport delivered = w.one(kTen, true);
  EXPECT_EQ(delivered.status, HourStatus::kExported);
  EXPECT_EQ(delivered.redelivered, 1U);
  EXPECT_EQ(delivered.revision, 2U);
  EXPECT_EQ(delivered.reason, RevisionReason::kRedelivery);
  EXPECT_EQ(w.body("hr-nobucket/events-2026-11-29-10.json"), copy);  // the same bytes
  EXPECT_FALSE(w.has(copy_id));                                      // the copy is gone
  const Manifest m = w.manifest(kTen);
  EXPECT_EQ(m.events_undeliverable, 0U);
  EXPECT_EQ(m.events_delivered, 11U);
  EXPECT_TRUE(m.balanced());
  EXPECT_FALSE(m.has_undeliverable());
  const auto entry = std::find_if(m.objects.begin(), m.objects.end(),
                                  [](const ManifestObject& o) { return o.client == "nobucket"; });
  ASSERT_NE(entry, m.objects.end());
  EXPECT_EQ(entry->status, ObjectStatus::kDelivered);
  EXPECT_FALSE(entry->delivered_at.empty());
  EXPECT_TRUE(entry->undeliverable_key.empty());
  // Then the hour is unchanged.
  EXPECT_EQ(w.one(kTen, true).skip_reason, "unchanged");
}

TEST(ExportHours, ARerunThatDeliversRemovesTheStaleCopy) {
  World w;
  ASSERT_EQ(w.one(kTen, false).status, HourStatus::kUndeliverable);
  w.store.buckets.insert("hr-nobucket");
  ASSERT_EQ(w.one(kTen, false).status, HourStatus::kExported);  // a manual rerun
  EXPECT_TRUE(w.has("hr-nobucket/events-2026-11-29-10.json"));
  EXPECT_FALSE(w.has("hr-ops/undeliverable/nobucket/events-2026-11-29-10.json"));
}

TEST(ExportHours, ARedeliveryRefusesACopyThatIsNotWhatTheManifestRecorded) {
  World w;
  ASSERT_EQ(w.one(kTen, false).status, HourStatus::kUndeliverable);
  w.store.objects.at("hr-ops/undeliverable/nobucket/events-2026-11-29-10.json").body += " ";
  w.store.buckets.insert("hr-nobucket");
  const HourReport report = w.one(kTen, true);
  EXPECT_EQ(report.status, HourStatus::kUndeliverable);
  EXPECT_FALSE(w.has("hr-nobucket/events-2026-11-29-10.json"));
  EXPECT_TRUE(w.has("hr-ops/undeliverable/nobucket/events-2026-11-29-10.json"));
}

TEST(ExportHours, AManifestWrittenByAnotherRunInBetweenIsNotOverwritten) {
  World w;
  w.store.buckets.insert("hr-nobucket");
  ASSERT_EQ(w.one(kTen, false).revision, 1U);
  Exporter exporter = w.exporter_at(kTwelve.end_us());
  auto prior = exporter.prior_manifest(kTen);
  ASSERT_TRUE(prior.ok() && prior->has_value());
  // Another run writes revision 2 after this one read revision 1.
  ASSERT_EQ(w.one(kTen, false).revision, 2U);
  const std::string theirs = w.body("hr-ops/" + manifest_key(kTen));
  HourRevision revision;
  revision.prior = std::move(**prior);
  revision.reason = RevisionReason::kManualRerun;
  auto mine = exporter.complete_hour(kTen, HourOutcome{}, kTwelve.end_us(), revision);
  ASSERT_FALSE(mine.ok());
  EXPECT_EQ(mine.error().kind, ErrorKind::kConflict) << mine.error().to_string();
  EXPECT_EQ(w.body("hr-ops/" + manifest_key(kTen)), theirs);

  // A first revision is written only where none exists.
  World fresh;
  Exporter first = fresh.exporter_at(kTwelve.end_us());
  ASSERT_EQ(fresh.one(kEleven, false).revision, 1U);
  auto again = first.complete_hour(kEleven, HourOutcome{}, kTwelve.end_us(), HourRevision{});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
}

TEST(ExportHours, ARetriedManifestWriteWhoseFirstAttemptWasStoredSucceeds) {
  World w;
  auto store = w.ports().make_store();
  ASSERT_TRUE(store.ok());
  s3::PutOptions first;
  first.if_none_match = true;
  const std::string key = manifest_key(kTen);
  // The first attempt was stored, its answer lost: the retry meets its own manifest.
  ASSERT_TRUE(put_manifest(**store, "hr-ops", key, "{\"run_id\":\"run-a\"}", first).ok());
  EXPECT_TRUE(put_manifest(**store, "hr-ops", key, "{\"run_id\":\"run-a\"}", first).ok());
  // Another run's manifest is not ours: a conflict.
  Status other = put_manifest(**store, "hr-ops", key, "{\"run_id\":\"run-b\"}", first);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(w.body("hr-ops/" + key), "{\"run_id\":\"run-a\"}");
}

}  // namespace
}  // namespace es::exporter
