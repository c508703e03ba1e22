// `verify` against in-memory ports: an hour exported by the real exporter verifies clean, and every
// kind of damage (a flipped byte, a wrong count in the manifest, a missing object, no manifest,
// DynamoDB changed since) is reported naming the client and the object. Also the decompression
// helper verify reads objects with.

#include <algorithm>

#include <gtest/gtest.h>

#include "core/decompress.h"
#include "core/encode.h"
#include "core/hash.h"
#include "export/exporter.h"
#include "export/verify.h"
#include "support/fake_ports.h"
#include "support/world.h"

namespace es::exporter {
namespace {

using es::testing::FakeStoreData;
using es::testing::FakeTableData;

const HourWindow kHour = *HourWindow::parse_hour("2026-11-29T10");
constexpr std::string_view kAcme = "ve-acme/events-2026-11-29-10.json";
constexpr std::string_view kBeta = "ve-beta/events-2026-11-29-10.json";
constexpr std::string_view kManifest = "ve-ops/manifests/2026/11/29/10.json";

std::string item(std::string_view id, std::string_view client, std::string_view time,
                 std::string_view text = "x") {
  return fmt::format(
      R"({{"eventId":{{"S":"{}"}},"clientId":{{"S":"{}"}},"time":{{"S":"{}"}},"t":{{"S":"{}"}}}})", id,
      client, time, text);
}

struct World : es::testing::World {
  World()
      : es::testing::World(
            "ve", {"acme", "beta"}, 3,
            {
                item("a3", "acme", "2026-11-29T10:30:00Z", R"(a, \"quoted\"\r\nline)"),
                item("a1", "acme", "2026-11-29T10:00:00Z"),
                item("a2b", "acme", "2026-11-29T10:15:00+00:00"),
                item("a2a", "acme", "2026-11-29T10:15:00Z"),
                R"({"eventId":{"S":"a4"},"clientId":{"S":"acme"},"time":{"N":"1795949999999"},"t":{"S":"ms"}})",
                item("b1", "beta", "2026-11-29T10:59:59.999999Z"),
                item("b2", "beta", "2026-11-29T10:00:00.5Z"),
                item("next", "beta", "2026-11-29T11:00:00Z"),
                item("g1", "gamma", "2026-11-29T10:10:00Z"),  // no bucket: undeliverable
                item("bad1", "Upper", "2026-11-29T10:10:00Z"),
                R"({"eventId":{"S":"bad2"},"time":{"S":"2026-11-29T10:10:00Z"}})",
            }) {
    config.upload_concurrency = 2;
  }

  void export_hour() {
    Exporter exporter = exporter_at(kHour.end_us());
    auto report = exporter.export_hour(kHour);
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    ASSERT_EQ(report->events_read, 10u);
  }

  VerifyReport verify(bool source = false) {
    VerifyOptions options;
    options.source = source;
    auto report = verify_hour(kHour, config, ports(), options);
    EXPECT_TRUE(report.ok()) << report.error().to_string();
    return report.ok() ? std::move(report).value() : VerifyReport{};
  }

  std::string& body(std::string_view id) { return store.objects.at(std::string(id)).body; }
};

std::string describe(const VerifyReport& r) {
  std::string out;
  for (const VerifyFinding& f : r.findings)
    out += fmt::format("[{}] {} {}: {}\n", f.check, f.client, f.location, f.message);
  return out;
}

bool has_finding(const VerifyReport& r, std::string_view check, std::string_view client) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const VerifyFinding& f) { return f.check == check && f.client == client; });
}

TEST(Verify, ExportedHourVerifiesClean) {
  World w;
  w.export_hour();
  const VerifyReport r = w.verify(/*source=*/true);
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_TRUE(r.manifest_found);
  EXPECT_EQ(r.events_counted, 10u);
  EXPECT_TRUE(r.source_checked);
  EXPECT_EQ(r.source_events_read, 10u);
  // acme, beta, gamma (undeliverable, from the ops bucket) and the rejected file.
  ASSERT_EQ(r.objects.size(), 4u);
  EXPECT_EQ(r.objects[2].client, "gamma");
  EXPECT_EQ(r.objects[2].status, "undeliverable");
  EXPECT_EQ(r.objects[2].location, "s3://ve-ops/undeliverable/gamma/events-2026-11-29-10.json");
  EXPECT_EQ(r.objects[3].status, "rejected");
  EXPECT_EQ(r.objects[3].events, 2u);
  for (const VerifiedObject& o : r.objects) EXPECT_TRUE(o.ok && o.found) << o.location;
}

TEST(Verify, EveryFormatAndCompressionVerifiesClean) {
  for (const auto format : {OutputFormat::kJson, OutputFormat::kNdjson, OutputFormat::kCsv}) {
    for (const auto compression : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
      World w;
      w.config.format = format;
      w.config.compression = compression;
      w.export_hour();
      const VerifyReport r = w.verify();
      EXPECT_TRUE(r.ok()) << to_string(format) << "/" << to_string(compression) << "\n" << describe(r);
      EXPECT_EQ(r.events_counted, 10u) << to_string(format) << "/" << to_string(compression);
    }
  }
}

TEST(Verify, FlippedByteIsASha256Mismatch) {
  World w;
  w.export_hour();
  std::string& acme = w.body(kAcme);
  const auto at = acme.find("\"ms\"");
  ASSERT_NE(at, std::string::npos);
  acme[at + 1] = 'M';  // same size, same events: only the checksum can tell
  const VerifyReport r = w.verify();
  EXPECT_FALSE(r.ok());
  ASSERT_TRUE(has_finding(r, "sha256", "acme")) << describe(r);
  EXPECT_EQ(r.findings.size(), 1u) << describe(r);
  EXPECT_EQ(r.findings[0].location, "s3://ve-acme/events-2026-11-29-10.json");
  EXPECT_FALSE(r.objects[0].ok);
  EXPECT_TRUE(r.objects[1].ok);
}

TEST(Verify, WrongCountInTheManifestIsReported) {
  World w;
  w.export_hour();
  auto manifest = parse_manifest(w.body(kManifest));
  ASSERT_TRUE(manifest.ok());
  ASSERT_EQ(manifest->objects[1].client, "beta");
  manifest->objects[1].events += 1;
  w.body(kManifest) = render_manifest(*manifest);
  const VerifyReport r = w.verify(/*source=*/true);
  EXPECT_TRUE(has_finding(r, "events", "beta")) << describe(r);
  EXPECT_TRUE(has_finding(r, "source", "beta")) << describe(r);
  EXPECT_TRUE(has_finding(r, "accounting", "")) << describe(r);
  EXPECT_FALSE(has_finding(r, "events", "acme")) << describe(r);
}

TEST(Verify, MissingObjectIsReported) {
  World w;
  w.export_hour();
  w.store.objects.erase(std::string(kBeta));
  const VerifyReport r = w.verify();
  ASSERT_TRUE(has_finding(r, "missing", "beta")) << describe(r);
  EXPECT_FALSE(r.objects[1].found);
  EXPECT_TRUE(has_finding(r, "accounting", "")) << describe(r);  // its events are not anywhere
}

TEST(Verify, MissingRejectedFileAndManifestAreReported) {
  World w;
  w.export_hour();
  w.store.objects.erase("ve-ops/rejected/events-2026-11-29-10.json");
  EXPECT_TRUE(has_finding(w.verify(), "missing", "")) << describe(w.verify());

  World empty;
  const VerifyReport r = empty.verify();
  EXPECT_FALSE(r.manifest_found);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].check, "manifest");
  EXPECT_EQ(r.findings[0].message,
            "hour not exported (no manifest at s3://ve-ops/manifests/2026/11/29/10.json)");
}

TEST(Verify, MissingOpsBucketIsAnError) {
  World w;
  w.store.buckets.clear();
  auto r = verify_hour(kHour, w.config, es::testing::fake_ports(w.table, w.store));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoSuchBucket");
}

TEST(Verify, SourceChangedSinceTheExportIsReported) {
  World w;
  w.export_hour();
  w.table.items.push_back(item("late", "acme", "2026-11-29T10:20:00Z"));
  w.table.items.push_back(item("new", "delta", "2026-11-29T10:20:00Z"));
  const VerifyReport r = w.verify(/*source=*/true);
  EXPECT_TRUE(has_finding(r, "source", "acme")) << describe(r);
  EXPECT_TRUE(has_finding(r, "source", "delta")) << describe(r);
  EXPECT_FALSE(has_finding(r, "source", "beta")) << describe(r);
  EXPECT_TRUE(w.verify(/*source=*/false).ok());
}

TEST(Verify, ReorderedAndMisplacedEventsAreReported) {
  World w;
  w.export_hour();
  // Swap the first two events of acme and fix size and checksum in the manifest: only order and
  // min_time can tell.
  std::string& acme = w.body(kAcme);
  const auto first = acme.find('\n') + 1;
  const auto second = acme.find('\n', first) + 1;
  const auto third = acme.find('\n', second) + 1;
  const std::string a = acme.substr(first, second - first);
  const std::string b = acme.substr(second, third - second);
  acme.replace(first, third - first, b + a);
  auto manifest = parse_manifest(w.body(kManifest));
  ASSERT_TRUE(manifest.ok());
  manifest->objects[0].sha256 = hex_encode(sha256(acme));
  w.body(kManifest) = render_manifest(*manifest);
  const VerifyReport r = w.verify();
  EXPECT_TRUE(has_finding(r, "order", "acme")) << describe(r);
  EXPECT_FALSE(has_finding(r, "events", "acme")) << describe(r);
}

TEST(VerifyContent, CountsAndChecksJsonLines) {
  const std::string json =
      "[\n"
      R"({"eventId":"a","time":"2026-11-29T10:00:00Z"},)"
      "\n"
      R"({"eventId":"b","time":1795946400},)"
      "\n"
      R"({"eventId":"c","time":"2026-11-29T11:00:00Z"})"
      "\n]\n";
  auto c =
      read_object_content(json, OutputFormat::kJson, Compression::kNone, kHour, "time", "eventId", 1 << 20);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->events, 3u);
  ASSERT_EQ(c->problems.size(), 1u);
  EXPECT_EQ(c->problems[0].first, "window");
  EXPECT_NE(c->problems[0].second.find("'c'"), std::string::npos) << c->problems[0].second;

  auto empty =
      read_object_content("[]\n", OutputFormat::kJson, Compression::kNone, kHour, "time", "eventId", 1 << 20);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->events, 0u);
  EXPECT_TRUE(empty->problems.empty());

  const std::string broken = "[\n{\"eventId\":\"a\"}\n";  // no time, no closing bracket
  auto b =
      read_object_content(broken, OutputFormat::kJson, Compression::kNone, kHour, "time", "eventId", 1 << 20);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->events, 1u);
  ASSERT_EQ(b->problems.size(), 2u);
  EXPECT_EQ(b->problems[0].first, "event");
  EXPECT_EQ(b->problems[1].first, "format");
}

TEST(VerifyContent, CsvRowsMinusHeaderWithQuotedNewlines) {
  const std::string csv =
      "eventId,t,time\r\n"
      "a,\"two\r\nlines, \"\"quoted\"\"\",2026-11-29T10:00:00Z\r\n"
      "b,x,1795948200000\r\n";
  auto c =
      read_object_content(csv, OutputFormat::kCsv, Compression::kNone, kHour, "time", "eventId", 1 << 20);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->events, 2u);
  EXPECT_TRUE(c->problems.empty()) << c->problems[0].second;
  EXPECT_EQ(c->min_time_us, kHour.start_us);
  EXPECT_EQ(c->max_time_us, kHour.start_us + 1800 * kMicrosPerSecond);
}

std::string compress(Compression compression, std::string_view text) {
  std::string out;
  StringSink sink(out);
  auto c = Compressor::make(compression, sink);
  EXPECT_TRUE(c.ok());
  EXPECT_TRUE((*c)->append(text).ok());
  EXPECT_TRUE((*c)->finish().ok());
  return out;
}

TEST(Decompress, RoundTripsAndConcatenatedMembers) {
  std::string text;
  for (int i = 0; i < 50'000; ++i) text += fmt::format("line {}\n", i);
  for (const auto compression : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    const std::string packed = compress(compression, text);
    auto back = decompress(compression, packed, 1ULL << 30);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, text);
    // Fed one byte at a time.
    std::string slow;
    StringSink sink(slow);
    auto d = Decompressor::make(compression, sink, 1ULL << 30);
    ASSERT_TRUE(d.ok());
    for (const char ch : packed) ASSERT_TRUE((*d)->append(std::string_view(&ch, 1)).ok());
    ASSERT_TRUE((*d)->finish().ok());
    EXPECT_EQ(slow, text);
    // Two members/frames one after the other.
    auto twice = decompress(compression, packed + packed, 1ULL << 30);
    ASSERT_TRUE(twice.ok()) << twice.error().to_string();
    EXPECT_EQ(*twice, text + text);
  }
}

TEST(Decompress, TruncatedCorruptAndOversizedAreErrors) {
  const std::string text(100'000, 'a');
  for (const auto compression : {Compression::kGzip, Compression::kZstd}) {
    const std::string packed = compress(compression, text);
    auto truncated = decompress(compression, std::string_view(packed).substr(0, packed.size() - 3), 1 << 20);
    ASSERT_FALSE(truncated.ok());
    EXPECT_EQ(truncated.error().kind, ErrorKind::kInvalidData);
    std::string corrupt = packed;
    corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x55);
    corrupt[3] = static_cast<char>(corrupt[3] ^ 0x7f);
    EXPECT_FALSE(decompress(compression, corrupt, 1 << 20).ok());
    auto bomb = decompress(compression, packed, 1000);
    ASSERT_FALSE(bomb.ok());
    EXPECT_NE(bomb.error().message.find("limit of 1000 bytes"), std::string::npos) << bomb.error().message;
    EXPECT_FALSE(decompress(compression, "", 1 << 20).ok());
    EXPECT_FALSE(decompress(compression, packed + "junk", 1 << 20).ok());
  }
}

}  // namespace
}  // namespace es::exporter
