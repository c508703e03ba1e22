// The export pipeline against in-memory ports: accounting, ordering, determinism, undeliverable and
// failure handling, manifest last.

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "core/hash.h"
#include "export/exporter.h"
#include "export/summary.h"
#include "support/fake_ports.h"
#include "support/world.h"

namespace es::exporter {
namespace {

using es::testing::FakeStoreData;
using es::testing::FakeTableData;

const HourWindow kHour = *HourWindow::parse_hour("2026-11-29T10");

std::string item(std::string_view id, std::string_view client, std::string_view time, int payload = 0) {
  return fmt::format(
      R"({{"eventId":{{"S":"{}"}},"clientId":{{"S":"{}"}},"time":{{"S":"{}"}},"n":{{"N":"{}"}},)"
      R"("hourShard":{{"S":"2026-11-29T10#{:02}"}}}})",
      id, client, time, payload, payload % 4);
}

struct World : es::testing::World {
  // Out of order on purpose; two events share a time (ordered by id then).
  World()
      : es::testing::World(
            "ce", {"acme", "beta"}, 3,
            {
                item("e3", "acme", "2026-11-29T10:30:00Z", 3),
                item("e1", "acme", "2026-11-29T10:00:00Z", 1),
                item("e2b", "acme", "2026-11-29T10:15:00Z", 2),
                item("e2a", "acme", "2026-11-29T10:15:00Z", 2),
                item("b1", "beta", "2026-11-29T10:59:59.999999Z", 5),
                item("out", "beta", "2026-11-29T11:00:00Z", 6),
                item("gone", "nobucket", "2026-11-29T10:10:00Z", 7),
                item("bad1", "Upper", "2026-11-29T10:10:00Z", 8),
                R"({"eventId":{"S":"bad2"},"time":{"S":"2026-11-29T10:10:00Z"}})",
                // Rejected too, but its time puts it in another hour: that hour's run reports it.
                R"({"eventId":{"S":"bad3"},"time":{"S":"2026-11-29T12:10:00Z"}})",
            }) {
    config.shards = 4;
  }

  Result<HourReport> run(ExportOptions options = {}) {
    Exporter exporter = exporter_at(kHour.end_us(), options);
    return exporter.export_hour(kHour);
  }

  std::string object(const std::string& id) { return store.objects.at(id).body; }
};

TEST(Exporter, DeliversEachClientSortedAndAccountsForEveryEvent) {
  World w;
  auto report = w.run();
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->events_read, 8u);  // "out" belongs to the next hour
  EXPECT_EQ(report->events_delivered, 5u);
  EXPECT_EQ(report->events_rejected, 2u);
  EXPECT_EQ(report->events_undeliverable, 1u);
  EXPECT_EQ(report->events_read,
            report->events_delivered + report->events_rejected + report->events_undeliverable);
  EXPECT_EQ(to_string(report->status), "undeliverable");

  const std::string acme = w.object("ce-acme/events-2026-11-29-10.json");
  const auto pos = [&](std::string_view id) { return acme.find(fmt::format(R"("eventId":"{}")", id)); };
  EXPECT_LT(pos("e1"), pos("e2a"));
  EXPECT_LT(pos("e2a"), pos("e2b"));
  EXPECT_LT(pos("e2b"), pos("e3"));
  EXPECT_TRUE(acme.starts_with("[\n{") && acme.ends_with("}\n]\n")) << acme;
  EXPECT_EQ(std::count(acme.begin(), acme.end(), '\n'), 6);  // "[", 4 events, "]"

  const auto& put = w.store.objects.at("ce-acme/events-2026-11-29-10.json").options;
  EXPECT_EQ(put.metadata.at("event-count"), "4");
  EXPECT_EQ(put.metadata.at("window-start"), "2026-11-29T10:00:00.000000Z");
  EXPECT_EQ(put.precomputed_sha256, base64_encode(sha256(acme)));
  EXPECT_EQ(put.encryption, s3::Encryption::kAes256);

  EXPECT_TRUE(w.store.objects.contains("ce-ops/undeliverable/nobucket/events-2026-11-29-10.json"));
  const std::string rejected = w.object("ce-ops/rejected/events-2026-11-29-10.json");
  EXPECT_NE(rejected.find(R"("reason":"invalid_client_id")"), std::string::npos) << rejected;
  EXPECT_NE(rejected.find(R"("reason":"missing_client_id")"), std::string::npos) << rejected;
  // The manifest is the last object written: its presence means the hour is complete.
  EXPECT_EQ(w.store.put_order.back(), "ce-ops/manifests/2026/11/29/10.json");
  auto manifest = parse_manifest(w.object("ce-ops/manifests/2026/11/29/10.json"));
  ASSERT_TRUE(manifest.ok()) << manifest.error().to_string();
  EXPECT_EQ(manifest->objects.size(), 3u);
  EXPECT_EQ(manifest->objects[0].sha256, hex_encode(sha256(acme)));
  EXPECT_EQ(manifest->objects[0].bytes, acme.size());
}

TEST(Exporter, OutputIsByteIdenticalWhateverTheSegmentsAndItemOrder) {
  World reference;
  ASSERT_TRUE(reference.run().ok());
  for (int segments : {1, 2, 8}) {
    World w;
    w.config.segments = segments;
    std::mt19937 rng(static_cast<unsigned>(segments));
    std::shuffle(w.table.items.begin(), w.table.items.end(), rng);
    w.table.page_size = static_cast<std::size_t>(segments);
    ASSERT_TRUE(w.run().ok());
    for (const auto& [id, obj] : reference.store.objects) {
      if (id.find("manifests/") != std::string::npos) continue;  // carries the duration
      EXPECT_EQ(w.object(id), obj.body) << id << " with " << segments << " segments";
    }
  }
}

TEST(Exporter, QueryModeReadsTheHourShardsAndMatchesScanMode) {
  World scan;
  ASSERT_TRUE(scan.run().ok());
  World query;
  query.config.read_mode = ReadMode::kQuery;
  auto report = query.run();
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(query.object("ce-acme/events-2026-11-29-10.json"),
            scan.object("ce-acme/events-2026-11-29-10.json"));
  // "out" (11:00Z) carries this hour's shard: query mode reports it instead of skipping it. "bad2"
  // has no shard attribute, so the (sparse) index never holds it: query mode cannot see it.
  EXPECT_EQ(report->events_rejected, 2u);
  EXPECT_NE(query.object("ce-ops/rejected/events-2026-11-29-10.json").find("hour_shard_mismatch"),
            std::string::npos);
}

TEST(Exporter, AReadFailureFailsTheHourAndWritesNothing) {
  World w;
  Error e;
  e.kind = ErrorKind::kThrottled;
  e.code = "ProvisionedThroughputExceededException";
  w.table.fail_with = e;
  auto report = w.run();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "ProvisionedThroughputExceededException");
  EXPECT_TRUE(w.store.objects.empty());
}

// An exception in a reader thread (here std::bad_alloc from the table) fails the hour with an
// error that says so; it never reaches std::terminate.
TEST(Exporter, AReaderThatThrowsFailsTheHourCleanly) {
  World w;
  w.table.throw_bad_alloc = true;
  auto report = w.run();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().kind, ErrorKind::kInternal);
  EXPECT_NE(report.error().message.find("bad_alloc"), std::string::npos) << report.error().to_string();
  EXPECT_NE(report.error().message.find("2026-11-29T10"), std::string::npos) << report.error().to_string();
  EXPECT_TRUE(w.store.objects.empty());
}

// An exception in an upload worker fails that client's job, and so the hour (no manifest).
TEST(Exporter, AnUploadThatThrowsFailsTheHourCleanly) {
  World w;
  w.store.throwing_writes.insert("ce-acme/");
  auto report = w.run();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().kind, ErrorKind::kInternal);
  EXPECT_NE(report.error().to_string().find("the fake store threw"), std::string::npos)
      << report.error().to_string();
  EXPECT_FALSE(w.store.objects.contains("ce-ops/manifests/2026/11/29/10.json"));
}

TEST(Exporter, NoOpsBucketMeansNoManifestAndAnError) {
  World w;
  w.store.buckets.erase("ce-ops");
  auto report = w.run();
  ASSERT_FALSE(report.ok());
  EXPECT_FALSE(w.store.objects.contains("ce-ops/manifests/2026/11/29/10.json"));
}

// A client whose bucket would be the ops bucket ("ce-" + "ops") is rejected, never "delivered" into it.
TEST(Exporter, AClientNamedLikeTheOpsBucketIsRejected) {
  World w;
  w.table.items.push_back(item("sneaky", "ops", "2026-11-29T10:20:00Z", 9));
  auto report = w.run();
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->events_rejected, 3u);
  EXPECT_FALSE(w.store.objects.contains("ce-ops/events-2026-11-29-10.json"));
  const std::string rejected = w.object("ce-ops/rejected/events-2026-11-29-10.json");
  EXPECT_NE(rejected.find(R"("reason":"reserved_bucket")"), std::string::npos) << rejected;
  auto manifest = parse_manifest(w.object("ce-ops/manifests/2026/11/29/10.json"));
  ASSERT_TRUE(manifest.ok());
  for (const ManifestObject& o : manifest->objects) EXPECT_NE(o.client, "ops");
}

// EAGLESENSE_CLIENTS: only the onboarded clients get an object; the others' events are rejected
// (client_not_allowed), accounted for, and nothing is written for them.
TEST(Exporter, AClientNotInTheAllowListIsRejectedAndTheHourBalances) {
  World w;
  w.config.allowed_clients = std::set<std::string, std::less<>>{"acme"};
  w.config.expected_bucket_owner = "111122223333";
  w.config.ops_bucket_owner = "444455556666";
  auto report = w.run();
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(report->events_read, 8u);
  EXPECT_EQ(report->events_delivered, 4u);  // acme's
  EXPECT_EQ(report->events_rejected, 4u);   // beta's b1, nobucket's gone, Upper, no client id
  EXPECT_EQ(report->events_undeliverable, 0u);
  EXPECT_EQ(report->events_read,
            report->events_delivered + report->events_rejected + report->events_undeliverable);
  EXPECT_FALSE(w.store.objects.contains("ce-beta/events-2026-11-29-10.json"));
  EXPECT_FALSE(w.store.objects.contains("ce-ops/undeliverable/nobucket/events-2026-11-29-10.json"));
  const std::string rejected = w.object("ce-ops/rejected/events-2026-11-29-10.json");
  EXPECT_NE(rejected.find(R"("reason":"client_not_allowed")"), std::string::npos) << rejected;
  EXPECT_NE(rejected.find("client id 'beta' is not in the allow-list"), std::string::npos) << rejected;
  EXPECT_NE(rejected.find("client id 'nobucket' is not in the allow-list"), std::string::npos) << rejected;
  // Every write carries its bucket's expected owner: the client's, and the ops bucket's.
  EXPECT_EQ(w.store.objects.at("ce-acme/events-2026-11-29-10.json").options.expected_bucket_owner,
            "111122223333");
  EXPECT_EQ(w.store.objects.at("ce-ops/rejected/events-2026-11-29-10.json").options.expected_bucket_owner,
            "444455556666");
  EXPECT_EQ(w.store.objects.at("ce-ops/manifests/2026/11/29/10.json").options.expected_bucket_owner,
            "444455556666");
}

// The s3:// form must be loaded (load_client_allow_list) before an hour is read: reading without it
// would let every client through.
TEST(Exporter, AnAllowListObjectNotLoadedFailsTheHourBeforeAnyWrite) {
  World w;
  w.config.clients_object = "s3://ce-ops/config/clients.txt";
  auto report = w.run();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().message.find("EAGLESENSE_CLIENTS"), std::string::npos);
  EXPECT_TRUE(w.store.objects.empty());
}

TEST(Exporter, DryRunReadsAndEncodesButWritesNothing) {
  World w;
  ExportOptions options;
  options.dry_run = true;
  auto report = w.run(options);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(to_string(report->status), "dry_run");
  EXPECT_EQ(report->events_read, 8u);
  EXPECT_TRUE(w.store.objects.empty());
}

TEST(Exporter, HourCompleteFollowsTheManifest) {
  World w;
  Exporter exporter(w.config, es::testing::fake_ports(w.table, w.store));
  auto before = exporter.hour_complete(kHour);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(*before);
  ASSERT_TRUE(exporter.export_hour(kHour).ok());
  EXPECT_TRUE(*exporter.hour_complete(kHour));
}

TEST(Exporter, CompressedCsvGetsItsKeyAndEncoding) {
  World w;
  w.config.format = OutputFormat::kCsv;
  w.config.compression = Compression::kGzip;
  ASSERT_TRUE(w.run().ok());
  const auto& obj = w.store.objects.at("ce-acme/events-2026-11-29-10.csv.gz");
  EXPECT_EQ(obj.options.content_encoding, "gzip");
  EXPECT_EQ(static_cast<unsigned char>(obj.body[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(obj.body[1]), 0x8b);
}

Error server_error(std::string_view resource) {
  Error e;
  e.kind = ErrorKind::kServiceError;
  e.code = "InternalError";
  e.http_status = 500;
  e.operation = "S3.PutObject";
  e.resource = std::string(resource);
  e.message = "We encountered an internal error. Please try again.";
  return e;
}

// The ops bucket refuses the rejected events: they would be lost, so the hour fails, unmarked.
TEST(Exporter, AFailedWriteOfTheRejectedEventsFailsTheHour) {
  World w;
  const std::string rejected = "ce-ops/rejected/events-2026-11-29-10.json";
  w.store.failing_writes.emplace(rejected, server_error(rejected));
  auto report = w.run();
  ASSERT_FALSE(report.ok()) << "the rejected events were not kept, yet the hour succeeded";
  EXPECT_EQ(report.error().code, "InternalError");
  EXPECT_FALSE(w.store.objects.contains(rejected));
  EXPECT_FALSE(w.store.objects.contains("ce-ops/manifests/2026/11/29/10.json"));
}

// A client's bucket is missing and the ops bucket refuses the copy set aside for it: the copy is the
// only place its events would be, so the hour fails, unmarked (the next catch-up repeats it).
void expect_failed_copy_fails_the_hour(World& w) {
  const std::string copy = "ce-ops/undeliverable/nobucket/";
  w.store.failing_writes.emplace(copy, server_error(copy));
  auto report = w.run();
  ASSERT_FALSE(report.ok()) << "the undeliverable events were not kept, yet the hour succeeded";
  EXPECT_EQ(report.error().code, "InternalError");
  EXPECT_FALSE(w.store.objects.contains("ce-ops/manifests/2026/11/29/10.json"));
  for (const auto& [id, object] : w.store.objects) {
    EXPECT_FALSE(id.starts_with(copy)) << id;
  }
}

TEST(Exporter, AFailedUndeliverableCopyFailsTheHour) {
  World w;
  expect_failed_copy_fails_the_hour(w);
}

// A big hour: 3,000 events of ~300 bytes over 4 clients (one without a bucket).
void make_big(World& w) {
  w.table.items.clear();
  w.table.page_size = 50;
  std::mt19937 rng(3);
  for (int i = 0; i < 3000; ++i) {
    const std::string client =
        std::vector<std::string>{"acme", "beta", "nobucket", "acme"}[static_cast<std::size_t>(i % 4)];
    w.table.items.push_back(item(fmt::format("id{:05}", rng() % 100000), client,
                                 fmt::format("2026-11-29T10:{:02}:{:02}.{:06}Z", rng() % 60, rng() % 60, i),
                                 static_cast<int>(rng() % 1000)));
  }
}

TEST(Exporter, AFailedUndeliverableCopyFailsASpilledHour) {
  for (const Compression compression : {Compression::kNone, Compression::kZstd}) {
    World w;
    make_big(w);
    w.config.compression = compression;  // merged into one PutObject, or streamed by an upload
    w.config.memory_mb = 16;
    expect_failed_copy_fails_the_hour(w);
  }
}

TEST(Exporter, SpilledHoursGiveTheSameBytesAsInMemoryOnes) {
  for (auto [format, compression] : {std::pair{OutputFormat::kJson, Compression::kNone},
                                     std::pair{OutputFormat::kNdjson, Compression::kZstd},
                                     std::pair{OutputFormat::kCsv, Compression::kGzip}}) {
    World in_memory;
    make_big(in_memory);
    in_memory.config.format = format;
    in_memory.config.compression = compression;
    auto reference = in_memory.run();
    ASSERT_TRUE(reference.ok()) << reference.error().to_string();
    EXPECT_EQ(in_memory.store.streamed_uploads, 0);

    World spilled;
    make_big(spilled);
    spilled.config.format = format;
    spilled.config.compression = compression;
    spilled.config.memory_mb = 16;  // every reader thread spills as soon as it holds 64 KiB
    auto report = spilled.run();
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    if (compression == Compression::kNone) {
      // Runs in local files are merged twice instead (hashed, then produced into one PutObject).
      EXPECT_EQ(spilled.store.streamed_uploads, 0);
    } else {
      EXPECT_GT(spilled.store.streamed_uploads, 0);
    }
    EXPECT_EQ(report->events_read, reference->events_read);
    EXPECT_EQ(report->events_delivered, reference->events_delivered);
    EXPECT_EQ(report->events_undeliverable, 750u);
    for (const auto& [id, obj] : in_memory.store.objects) {
      if (id.find("manifests/") != std::string::npos) continue;
      ASSERT_TRUE(spilled.store.objects.contains(id)) << id;
      EXPECT_EQ(spilled.object(id), obj.body) << id << " differs when spilled (" << to_string(format) << ")";
    }
    auto a = parse_manifest(in_memory.object("ce-ops/manifests/2026/11/29/10.json"));
    auto b = parse_manifest(spilled.object("ce-ops/manifests/2026/11/29/10.json"));
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->objects.size(), b->objects.size());
    for (std::size_t i = 0; i < a->objects.size(); ++i) {
      EXPECT_EQ(a->objects[i].sha256, b->objects[i].sha256) << a->objects[i].client;
      EXPECT_EQ(a->objects[i].events, b->objects[i].events);
      EXPECT_EQ(a->objects[i].min_time_us, b->objects[i].min_time_us);
      EXPECT_EQ(a->objects[i].max_time_us, b->objects[i].max_time_us);
    }
  }
}

TEST(MemoryPlan, SharesTheBudget) {
  ExportConfig config;
  ExportOptions options;
  // The default (192 MB) leaves each of 8 readers 13 MiB: a 200,000-event hour (~12 MiB a reader)
  // stays in memory.
  EXPECT_EQ(plan_memory(config, options, 8).read.bytes_per_thread, (192ULL - 32 - 32 - 24) << 20 >> 3);
  config.memory_mb = 256;
  const MemoryPlan plan = plan_memory(config, options, 8);
  EXPECT_EQ(plan.upload_bytes, 32ULL << 20);
  EXPECT_EQ(plan.read.bytes_per_thread, (256ULL - 32 - 32 - 24) << 20 >> 3);
  config.memory_mb = 16;
  EXPECT_EQ(plan_memory(config, options, 8).upload_bytes, 4ULL << 20);
  EXPECT_EQ(plan_memory(config, options, 8).read.bytes_per_thread, 64ULL << 10);
}

TEST(RunSummary, ExitCodesFollowTheOutcome) {
  RunSummary s;
  HourReport ok;
  ok.status = HourStatus::kExported;
  s.hours = {ok};
  EXPECT_EQ(exit_code(s), 0);
  s.hours[0].events_undeliverable = 1;
  EXPECT_EQ(exit_code(s), 3);
  HourReport failed;
  failed.status = HourStatus::kFailed;
  s.hours.push_back(failed);
  EXPECT_EQ(exit_code(s), 1);
  const std::string json = render_summary(s);
  EXPECT_NE(json.find(R"("events_undeliverable":1)"), std::string::npos);
  EXPECT_NE(json.find(R"("hours_failed":1)"), std::string::npos);
}

}  // namespace
}  // namespace es::exporter
