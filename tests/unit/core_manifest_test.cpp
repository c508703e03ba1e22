#include <gtest/gtest.h>

#include "core/manifest.h"

namespace es {
namespace {

Manifest full_manifest() {
  Manifest m;
  m.window = *HourWindow::parse_hour("2026-11-29T10");
  m.revision = 3;
  m.reason = RevisionReason::kRedelivery;
  m.table = "events";
  m.table_detail = {"events", "arn:aws:dynamodb:eu-west-1:123456789012:table/events", "eu-west-1",
                    "123456789012"};
  m.source = {12, std::string(64, 'a')};
  m.events_read = 12;
  m.events_delivered = 10;
  m.events_rejected = 2;
  ManifestObject delivered;
  delivered.client = "acme";
  delivered.bucket = "p-acme";
  delivered.key = "events-2026-11-29-10.json";
  delivered.events = 6;
  delivered.bytes = 600;
  delivered.sha256 = std::string(64, 'b');
  delivered.version_id = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
  delivered.delivered_at = "2026-11-29T13:05:00Z";
  ManifestObject kept = delivered;
  kept.client = "beta";
  kept.bucket = "p-beta";
  kept.events = 4;
  kept.version_id.clear();
  kept.delivered_at.clear();
  kept.source_events = 3;
  m.objects = {delivered, kept};
  ManifestRevision first;
  first.revision = 1;
  first.reason = RevisionReason::kFirstExport;
  first.sha256 = std::string(64, 'c');
  first.generated_at = "2026-11-29T11:00:05Z";
  first.run_id = "run-1";
  first.events_read = 11;
  first.events_delivered = 5;
  first.events_rejected = 2;
  first.events_undeliverable = 4;
  ManifestRevision second = first;
  second.revision = 2;
  second.reason = RevisionReason::kLateEvents;
  m.history = {first, second};
  m.version = "1.2.3";
  m.git_commit = "0123456789abcdef0123456789abcdef01234567";
  m.run_id = "run-3";
  m.settings_hash = std::string(64, 'd');
  m.generated_at = "2026-11-29T13:05:01Z";
  return m;
}

TEST(Manifest, EveryFieldSurvivesRenderAndParse) {
  const Manifest m = full_manifest();
  auto parsed = parse_manifest(render_manifest(m));
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->revision, 3U);
  EXPECT_EQ(parsed->reason, RevisionReason::kRedelivery);
  EXPECT_EQ(parsed->table_detail.arn, m.table_detail.arn);
  EXPECT_EQ(parsed->table_detail.region, "eu-west-1");
  EXPECT_EQ(parsed->table_detail.account, "123456789012");
  EXPECT_EQ(parsed->source, m.source);
  ASSERT_EQ(parsed->objects.size(), 2U);
  EXPECT_EQ(parsed->objects[0].version_id, m.objects[0].version_id);
  EXPECT_EQ(parsed->objects[0].delivered_at, "2026-11-29T13:05:00Z");
  EXPECT_FALSE(parsed->objects[0].source_events.has_value());
  EXPECT_EQ(parsed->objects[1].source_events, std::optional<std::uint64_t>(3));
  ASSERT_EQ(parsed->history.size(), 2U);
  EXPECT_EQ(parsed->history[1].revision, 2U);
  EXPECT_EQ(parsed->history[1].reason, RevisionReason::kLateEvents);
  EXPECT_EQ(parsed->history[0].sha256, m.history[0].sha256);
  EXPECT_EQ(parsed->history[0].run_id, "run-1");
  EXPECT_EQ(parsed->history[0].counts(), m.history[0].counts());
  EXPECT_EQ(parsed->git_commit, m.git_commit);
  EXPECT_EQ(parsed->run_id, "run-3");
  EXPECT_EQ(parsed->settings_hash, m.settings_hash);
  // Rendering what was parsed gives the same document.
  EXPECT_EQ(render_manifest(*parsed), render_manifest(m));
}

TEST(Manifest, OneWrittenBeforeRevisionsIsTheFirstRevision) {
  const std::string old = R"({"window":{"hour":"2026-11-29T10","start":"2026-11-29T10:00:00Z",
    "end":"2026-11-29T11:00:00Z"},"table":"events","read_mode":"scan","format":"json",
    "compression":"none","events_read":1,"events_delivered":1,"events_rejected":0,
    "events_undeliverable":0,"rejected_key":"","objects":[
    {"client":"acme","bucket":"p-acme","key":"events-2026-11-29-10.json","status":"delivered",
     "events":1,"bytes":10,"sha256":"00","min_time":"2026-11-29T10:00:00Z",
     "max_time":"2026-11-29T10:00:00Z"}],"duration_ms":5,"version":"0.9.0",
    "generated_at":"2026-11-29T11:00:05Z"})";
  auto m = parse_manifest(old);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->revision, 1U);
  EXPECT_EQ(m->reason, RevisionReason::kFirstExport);
  EXPECT_TRUE(m->history.empty());
  EXPECT_EQ(m->source.digest, "");
  EXPECT_EQ(m->table_detail.name, "events");
  EXPECT_EQ(m->run_id, "");
  EXPECT_FALSE(m->has_undeliverable());
}

TEST(Manifest, ABadRevisionOrReasonNamesTheField) {
  std::string text = render_manifest(full_manifest());
  std::string zero = text;
  zero.replace(zero.find("\"revision\":3"), 12, "\"revision\":0");
  auto a = parse_manifest(zero);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("revision"), std::string::npos) << a.error().message;

  std::string reason = text;
  reason.replace(reason.find("\"redelivery\""), 12, "\"whatever\"");
  auto b = parse_manifest(reason);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("reason"), std::string::npos) << b.error().message;
  EXPECT_NE(b.error().message.find("late_events"), std::string::npos) << b.error().message;
}

TEST(Manifest, HasUndeliverableLooksAtEveryObject) {
  Manifest m = full_manifest();
  EXPECT_FALSE(m.has_undeliverable());
  m.objects[1].status = ObjectStatus::kUndeliverable;
  EXPECT_TRUE(m.has_undeliverable());
}

}  // namespace
}  // namespace es
