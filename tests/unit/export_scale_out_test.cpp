// The scale-out stages (plan, work, list-clients, merge, finish) against in-memory ports: the same
// objects and manifest as a single run, byte for byte, for any number of units; stages that wait for
// their inputs; repeated stages that change nothing.

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

#include <gtest/gtest.h>

#include "core/hash.h"
#include "export/exporter.h"
#include "export/scale_out.h"
#include "support/fake_ports.h"
#include "support/world.h"

namespace es::exporter {
namespace {

using es::testing::FakeStoreData;
using es::testing::FakeTableData;

const HourWindow kHour = *HourWindow::parse_hour("2026-11-29T10");

std::string item(std::string_view id, std::string_view client, std::string_view time, int payload,
                 int shard) {
  return fmt::format(
      R"({{"eventId":{{"S":"{}"}},"clientId":{{"S":"{}"}},"time":{{"S":"{}"}},"n":{{"N":"{}"}},)"
      R"("note":{{"S":"a, \"quoted\" value {}"}},"hourShard":{{"S":"2026-11-29T10#{:02}"}}}})",
      id, client, time, payload, payload, shard);
}

/// 1,500 events over four clients (one without a bucket), a few rejected, one in the next hour.
struct World : es::testing::World {
  World() : es::testing::World("so", {"acme", "beta", "delta"}, 2, {}) {
    config.shards = 5;
    config.upload_concurrency = 3;
    table.page_size = 40;
    std::mt19937 rng(7);
    const std::vector<std::string> clients = {"acme", "beta", "nobucket", "acme", "delta"};
    for (int i = 0; i < 1500; ++i) {
      table.items.push_back(
          item(fmt::format("id{:05}", rng() % 100000), clients[static_cast<std::size_t>(i % 5)],
               fmt::format("2026-11-29T10:{:02}:{:02}.{:06}Z", rng() % 60, rng() % 60, i % 7),
               static_cast<int>(rng() % 1000), i % 5));
    }
    table.items.push_back(item("bad1", "Upper", "2026-11-29T10:10:00Z", 1, 0));
    table.items.push_back(R"({"eventId":{"S":"bad2"},"time":{"S":"2026-11-29T10:10:00Z"},)"
                          R"("hourShard":{"S":"2026-11-29T10#01"}})");
    table.items.push_back(item("next", "beta", "2026-11-29T11:00:00Z", 2, 3));
  }

  Exporter exporter() { return exporter_at(kHour.end_us()); }

  /// The client objects, ops-bucket files and manifest (every key outside staging/).
  std::map<std::string, std::string> outputs() {
    std::map<std::string, std::string> out;
    for (const auto& [id, obj] : store.objects) {
      if (id.find("/staging/") == std::string::npos) out[id] = obj.body;
    }
    return out;
  }

  std::vector<std::string> staged() {
    std::vector<std::string> keys;
    for (const auto& [id, obj] : store.objects) {
      if (id.find("/staging/") != std::string::npos) keys.push_back(id);
    }
    return keys;
  }
};

/// Every stage in turn, units in a shuffled order, as a state machine might run them.
Result<HourReport> run_stages(World& w, int workers) {
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  ES_ASSIGN_OR_RETURN(PlanResult plan, stages.plan(kHour, workers, false));
  std::vector<int> units(static_cast<std::size_t>(plan.plan.units));
  std::iota(units.begin(), units.end(), 0);
  std::shuffle(units.begin(), units.end(), std::mt19937(static_cast<unsigned>(workers)));
  for (int u : units) ES_TRY(stages.work(kHour, u));
  ES_ASSIGN_OR_RETURN(std::vector<std::string> clients, stages.list_clients(kHour));
  for (const std::string& c : clients) ES_TRY(stages.merge(kHour, c));
  return stages.finish(kHour);
}

void expect_same_outputs(World& single, World& staged, const std::string& what) {
  const auto a = single.outputs();
  const auto b = staged.outputs();
  ASSERT_FALSE(a.empty());
  for (const auto& [id, body] : a) {
    ASSERT_TRUE(b.contains(id)) << id << " missing with " << what;
    EXPECT_EQ(b.at(id), body) << id << " differs with " << what;
  }
  EXPECT_EQ(a.size(), b.size()) << what;
  EXPECT_TRUE(staged.staged().empty()) << "finish leaves the staging prefix empty (" << what << ")";
}

TEST(ScaleOut, ObjectsAndManifestAreByteIdenticalToASingleRun) {
  struct Case {
    OutputFormat format;
    Compression compression;
    ReadMode mode;
    std::uint64_t memory_mb;
  };
  for (const Case& c : {Case{OutputFormat::kJson, Compression::kNone, ReadMode::kScan, 256},
                        Case{OutputFormat::kJson, Compression::kNone, ReadMode::kQuery, 256},
                        Case{OutputFormat::kCsv, Compression::kGzip, ReadMode::kScan, 256},
                        Case{OutputFormat::kNdjson, Compression::kZstd, ReadMode::kScan, 16}}) {
    World single;
    single.config.format = c.format;
    single.config.compression = c.compression;
    single.config.read_mode = c.mode;
    auto reference = single.exporter().export_hour(kHour);
    ASSERT_TRUE(reference.ok()) << reference.error().to_string();
    ASSERT_EQ(reference->events_undeliverable, 300u);
    for (int workers : {1, 3, 8}) {
      World staged;
      staged.config = single.config;
      // Tiny budget: work units spill and merges read many small runs.
      staged.config.memory_mb = c.memory_mb;
      const std::string what = fmt::format("{} units, {} {} {} {} MB", workers, to_string(c.format),
                                           to_string(c.compression), to_string(c.mode), c.memory_mb);
      auto report = run_stages(staged, workers);
      ASSERT_TRUE(report.ok()) << report.error().to_string() << " with " << what;
      EXPECT_EQ(report->events_read, reference->events_read) << what;
      EXPECT_EQ(report->events_delivered, reference->events_delivered) << what;
      EXPECT_EQ(report->events_rejected, reference->events_rejected) << what;
      EXPECT_EQ(report->events_undeliverable, reference->events_undeliverable) << what;
      EXPECT_EQ(to_string(report->status), "undeliverable") << what;
      expect_same_outputs(single, staged, what);
      if (c.memory_mb == 256) {
        // Staged runs are read by ranged GETs, never whole.
        EXPECT_GT(staged.store.ranged_gets, 0) << what;
      }
    }
  }
}

TEST(ScaleOut, AnHourWithoutEventsGivesTheSameManifest) {
  World single;
  single.table.items.clear();
  ASSERT_TRUE(single.exporter().export_hour(kHour).ok());
  World staged;
  staged.table.items.clear();
  auto report = run_stages(staged, 3);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->events_read, 0u);
  EXPECT_EQ(to_string(report->status), "exported");
  expect_same_outputs(single, staged, "an empty hour");
}

TEST(ScaleOut, MergesAndFinishWaitForEveryUnitManifest) {
  World single;
  ASSERT_TRUE(single.exporter().export_hour(kHour).ok());

  World w;
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  ASSERT_TRUE(stages.plan(kHour, 3, false).ok());
  ASSERT_TRUE(stages.work(kHour, 0).ok());
  ASSERT_TRUE(stages.work(kHour, 2).ok());
  // Unit 1 "was killed": nothing may be merged or finished yet.
  auto error_of = [](auto result) { return result.ok() ? Error{} : std::move(result).error(); };
  for (const Error& e : {error_of(stages.list_clients(kHour)), error_of(stages.merge(kHour, "acme")),
                         error_of(stages.finish(kHour))}) {
    EXPECT_EQ(e.code, kStageNotReady) << e.to_string();
    EXPECT_NE(e.message.find("unit 1 of 3"), std::string::npos) << e.to_string();
    EXPECT_NE(e.message.find("eaglesense work --hour 2026-11-29T10 --unit 1"), std::string::npos);
  }
  EXPECT_FALSE(w.store.objects.contains("so-acme/events-2026-11-29-10.json"));
  EXPECT_FALSE(w.store.objects.contains("so-ops/manifests/2026/11/29/10.json"));

  // Re-running only that unit heals the hour.
  ASSERT_TRUE(stages.work(kHour, 1).ok());
  auto clients = stages.list_clients(kHour);
  ASSERT_TRUE(clients.ok()) << clients.error().to_string();
  EXPECT_EQ(*clients, (std::vector<std::string>{"acme", "beta", "delta", "nobucket"}));
  // Finish before every merge: names the client still to merge.
  ASSERT_TRUE(stages.merge(kHour, "acme").ok());
  auto early = stages.finish(kHour);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, kStageNotReady);
  EXPECT_NE(early.error().message.find("client beta is not merged yet"), std::string::npos);
  for (const auto& c : *clients) ASSERT_TRUE(stages.merge(kHour, c).ok());
  ASSERT_TRUE(stages.finish(kHour).ok());
  expect_same_outputs(single, w, "a unit re-run");
}

TEST(ScaleOut, RepeatedStagesWriteTheSameBytes) {
  World w;
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  ASSERT_TRUE(stages.plan(kHour, 2, false).ok());
  ASSERT_TRUE(stages.work(kHour, 0).ok());
  ASSERT_TRUE(stages.work(kHour, 1).ok());
  const auto first = w.store.objects;
  ASSERT_TRUE(stages.plan(kHour, 2, false).ok());  // the same plan again keeps the finished units
  ASSERT_TRUE(stages.work(kHour, 1).ok());
  ASSERT_EQ(first.size(), w.store.objects.size());
  for (const auto& [id, obj] : first) EXPECT_EQ(w.store.objects.at(id).body, obj.body) << id;
  EXPECT_TRUE(stages.list_clients(kHour).ok());
}

TEST(ScaleOut, UnitsOfAnotherPlanAreNotAccepted) {
  World w;
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  ASSERT_TRUE(stages.plan(kHour, 2, false).ok());
  ASSERT_TRUE(stages.work(kHour, 0).ok());
  ASSERT_TRUE(stages.work(kHour, 1).ok());
  ASSERT_TRUE(stages.plan(kHour, 3, false).ok());  // re-planned: units 0 and 1 read other segments now
  ASSERT_TRUE(stages.work(kHour, 2).ok());
  auto listed = stages.list_clients(kHour);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code, kStageNotReady);
  EXPECT_NE(listed.error().message.find("belongs to plan"), std::string::npos) << listed.error().to_string();
}

TEST(ScaleOut, StagesRefuseSettingsThatDifferFromThePlan) {
  World w;
  {
    Exporter exporter = w.exporter();
    ScaleOut stages(exporter);
    ASSERT_TRUE(stages.plan(kHour, 2, false).ok());
  }
  w.config.format = OutputFormat::kCsv;
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  auto work = stages.work(kHour, 0);
  ASSERT_FALSE(work.ok());
  EXPECT_EQ(work.error().resource, "OUTPUT_FORMAT");
  EXPECT_EQ(work.error().kind, ErrorKind::kInvalidArgument);
  auto unit = stages.work(kHour, 5);
  ASSERT_FALSE(unit.ok());
}

TEST(ScaleOut, StagesBeforeThePlanSayWhatToRun) {
  World w;
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  auto work = stages.work(kHour, 0);
  ASSERT_FALSE(work.ok());
  EXPECT_EQ(work.error().code, kStageNotReady);
  EXPECT_NE(work.error().message.find("eaglesense plan --hour 2026-11-29T10"), std::string::npos);
}

TEST(ScaleOut, ACorruptedRunFailsItsMerge) {
  World w;
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  ASSERT_TRUE(stages.plan(kHour, 2, false).ok());
  ASSERT_TRUE(stages.work(kHour, 0).ok());
  ASSERT_TRUE(stages.work(kHour, 1).ok());
  std::string& run = w.store.objects.at("so-ops/" + run_key(kHour, "acme", 1)).body;
  run[run.size() / 2] ^= 0x01;
  auto merged = stages.merge(kHour, "acme");
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.error().kind, ErrorKind::kInvalidData) << merged.error().to_string();
  EXPECT_NE(merged.error().to_string().find("SHA-256"), std::string::npos) << merged.error().to_string();
}

TEST(ScaleOut, CompleteHoursAreNotPlannedWhenAsked) {
  World w;
  ASSERT_TRUE(w.exporter().export_hour(kHour).ok());
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  auto plan = stages.plan(kHour, 4, true);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->complete);
  EXPECT_TRUE(w.staged().empty());
  EXPECT_NE(render_plan_output(*plan).find(R"("complete":true,)"), std::string::npos);
  EXPECT_NE(render_plan_output(*plan).find(R"("units":[])"), std::string::npos);
}

TEST(Plan, ScanUnitsGetContiguousSegmentsAndQueryUnitsDealtShards) {
  ExportConfig config;
  config.segments = 8;
  auto scan = make_plan(config, kHour, 3, 0);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->total_segments, 24);
  EXPECT_EQ(scan->unit_parts(1), (std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15}));

  config.read_mode = ReadMode::kQuery;
  config.shards = 16;
  auto query = make_plan(config, kHour, 3, 0);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->units, 3);
  EXPECT_EQ(query->unit_parts(0), (std::vector<int>{0, 3, 6, 9, 12, 15}));
  EXPECT_EQ(query->unit_parts(2), (std::vector<int>{2, 5, 8, 11, 14}));
  auto many = make_plan(config, kHour, 40, 0);
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->units, 16);  // at most one unit per shard

  auto none = make_plan(config, kHour, 0, 0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().resource, "--workers");
}

TEST(Plan, RoundTripsAndItsIdIgnoresWhenItWasMade) {
  ExportConfig config;
  auto a = make_plan(config, kHour, 4, 1000);
  auto b = make_plan(config, kHour, 4, 2000);
  auto c = make_plan(config, kHour, 5, 1000);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->id, b->id);
  EXPECT_NE(a->id, c->id);
  auto back = parse_plan(render_plan(*a));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->id, a->id);
  EXPECT_EQ(back->units, 4);
  EXPECT_EQ(back->total_segments, a->total_segments);
  EXPECT_EQ(back->created_us, 1000);
  EXPECT_FALSE(parse_plan(R"({"hour":"2026-11-29T10"})").ok());
}

TEST(UnitManifest, RoundTrips) {
  UnitManifest m;
  m.window = kHour;
  m.plan_id = "abc";
  m.unit = 3;
  m.events_read = 10;
  m.consumed_capacity = 2.5;
  m.rejected = 1;
  m.rejected_key = unit_rejected_key(kHour, 3);
  m.calls.requests = 7;
  m.runs.push_back({"acme", run_key(kHour, "acme", 3), 9, 900, 1000, "ff"});
  auto back = parse_unit_manifest(render_unit_manifest(m));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->unit, 3);
  EXPECT_EQ(back->consumed_capacity, 2.5);
  EXPECT_EQ(back->calls.requests, 7u);
  ASSERT_EQ(back->runs.size(), 1u);
  EXPECT_EQ(back->runs[0].key, "staging/2026-11-29T10/acme/unit-00003");
  EXPECT_EQ(back->runs[0].body_bytes, 900u);
  EXPECT_EQ(back->rejected_key, "staging/2026-11-29T10/_rejected/unit-00003");
}

TEST(RejectedPart, RoundTripsAnyBytes) {
  std::vector<RejectedEvent> in = {{"invalid_client_id", "upper case", "e1", "Upper", R"({"a":{"S":"x"}})"},
                                   {"missing_client_id", "", "", "", std::string("\0\xff", 2)}};
  auto out = decode_rejected(encode_rejected(in));
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].item, std::string("\0\xff", 2));
  EXPECT_EQ((*out)[0].client_id, "Upper");
  EXPECT_FALSE(decode_rejected(encode_rejected(in).substr(0, 10)).ok());
}

TEST(RejectedPart, ACorruptedLengthIsInvalidDataNotAnAllocation) {
  std::string bytes = encode_rejected({{"invalid_client_id", "upper case", "e1", "Upper", "{}"}});
  const std::uint32_t huge = 0xffffffffu;
  std::memcpy(bytes.data(), &huge, sizeof huge);
  auto out = decode_rejected(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::kInvalidData);
}

TEST(ScaleOut, ARunWithACorruptedLengthFailsItsMergeNamingTheRun) {
  World w;
  Exporter exporter = w.exporter();
  ScaleOut stages(exporter);
  ASSERT_TRUE(stages.plan(kHour, 2, false).ok());
  ASSERT_TRUE(stages.work(kHour, 0).ok());
  ASSERT_TRUE(stages.work(kHour, 1).ok());
  const std::string key = run_key(kHour, "acme", 1);
  std::string& run = w.store.objects.at("so-ops/" + key).body;
  const std::uint32_t huge = 0xfffffff0u;  // the first record's body length
  std::memcpy(run.data() + 8, &huge, sizeof huge);
  auto merged = stages.merge(kHour, "acme");
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.error().kind, ErrorKind::kInvalidData) << merged.error().to_string();
  EXPECT_NE(merged.error().to_string().find(key), std::string::npos) << merged.error().to_string();
}

}  // namespace
}  // namespace es::exporter
