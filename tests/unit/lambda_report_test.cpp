// The status report a scheduled Lambda run publishes (EAGLESENSE_REPORT): reports/last-7-days.html and
// .json in the ops bucket after the hours, only for scheduled events, off with none, and a report that
// cannot be written (a refused PUT, too little time) counted in ReportsFailed without failing anything.

#include <gtest/gtest.h>

#include "core/json_reader.h"
#include "core/log.h"
#include "export/status_publish.h"
#include "lambda/handler.h"
#include "support/fake_ports.h"
#include "support/lambda_world.h"

namespace es::lambda {
namespace {

constexpr std::string_view kScheduled =
    R"({"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events",)"
    R"("account":"123456789012","time":"2026-11-29T11:05:00Z","region":"us-east-1","resources":[],"detail":{}})";
const std::string kHtml = "rp-ops/reports/last-7-days.html";
const std::string kJson = "rp-ops/reports/last-7-days.json";

std::string item(std::string_view id, std::string_view time) {
  return fmt::format(R"({{"eventId":{{"S":"{}"}},"clientId":{{"S":"acme"}},"time":{{"S":"{}"}}}})", id, time);
}

struct World : es::testing::LambdaWorld {
  World()
      : LambdaWorld("rp", {"acme"}, 2,
                    {item("a1", "2026-11-29T10:10:00Z"), item("a2", "2026-11-29T09:20:00Z")},
                    *parse_iso8601_us("2026-11-29T11:05:01Z")) {
    context.catch_up_hours = 1;
    context.report = ReportMode::kLast7Days;
  }

  /// ReportsFailed of the invocation's EMF record.
  std::uint64_t reports_failed() {
    auto record = json::parse_document(emf_text(), "emf");
    EXPECT_TRUE(record.ok());
    return record.ok() ? record->uint64("ReportsFailed").value() : 99;
  }
};

TEST(LambdaReport, AScheduledRunPublishesTheLast7DaysAfterItsHours) {
  World w;
  auto result = w.invoke(kScheduled);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_TRUE(w.store.objects.contains(kHtml));
  ASSERT_TRUE(w.store.objects.contains(kJson));
  EXPECT_EQ(w.store.objects[kHtml].options.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(w.store.objects[kJson].options.content_type, "application/json");
  EXPECT_TRUE(w.store.objects[kHtml].body.starts_with("<!DOCTYPE html>"));
  // Written after the hours' manifests, so the report shows them.
  const auto& order = w.store.put_order;
  EXPECT_GT(std::find(order.begin(), order.end(), kHtml) - order.begin(),
            std::find(order.begin(), order.end(), "rp-ops/manifests/2026/11/29/10.json") - order.begin());
  auto report = json::parse_document(w.store.objects[kJson].body, "report");
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_EQ(*report->string("from"), "2026-11-22T11");
  EXPECT_EQ(*report->string("to"), "2026-11-29T10");
  EXPECT_EQ((*report->array("hours")).size(), 168u);
  EXPECT_EQ(*(*report)["hours_by_state"]->uint64("complete"), 2u);  // 10 and its catch-up, 09
  EXPECT_EQ(*(*report)["hours_by_state"]->uint64("missing"), 166u);
  EXPECT_EQ(w.reports_failed(), 0u);
}

TEST(LambdaReport, OnlyScheduledRunsPublishAndNoneTurnsItOff) {
  World explicit_hour;
  ASSERT_TRUE(explicit_hour.invoke(R"({"hour":"2026-11-29T10"})").ok());
  EXPECT_FALSE(explicit_hour.store.objects.contains(kHtml));
  World off;
  off.context.report = ReportMode::kNone;
  ASSERT_TRUE(off.invoke(kScheduled).ok());
  EXPECT_FALSE(off.store.objects.contains(kHtml));
  EXPECT_FALSE(off.store.objects.contains(kJson));
  EXPECT_EQ(off.reports_failed(), 0u);
}

TEST(LambdaReport, ARefusedReportIsCountedAndFailsNothing) {
  World w;
  Error denied;
  denied.kind = ErrorKind::kAccessDenied;
  denied.code = "AccessDenied";
  denied.http_status = 403;
  w.store.failing_writes.emplace("rp-ops/reports/", denied);
  auto result = w.invoke(kScheduled);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_TRUE(w.store.objects.contains("rp-ops/manifests/2026/11/29/10.json"));
  EXPECT_FALSE(w.store.objects.contains(kJson));
  EXPECT_EQ(w.reports_failed(), 1u);
}

TEST(LambdaReport, TooLittleTimeLeftSkipsTheReportAndCountsIt) {
  World w;
  const std::int64_t deadline_ms = (w.now + kReportBudgetUs - kMicrosPerSecond) / 1000;
  auto result = w.invoke(kScheduled, deadline_ms);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_TRUE(w.store.objects.contains("rp-ops/manifests/2026/11/29/10.json")) << "the hour comes first";
  EXPECT_FALSE(w.store.objects.contains(kHtml));
  EXPECT_EQ(w.reports_failed(), 1u);
}

TEST(LambdaReport, TheSettingIsLast7DaysOrNone) {
  auto defaults = load_export_config(map_environment({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->report, ReportMode::kLast7Days);
  auto off = load_export_config(map_environment({{"EAGLESENSE_REPORT", "none"}}));
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->report, ReportMode::kNone);
  auto bad = load_export_config(map_environment({{"EAGLESENSE_REPORT", "weekly"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().resource, "EAGLESENSE_REPORT");
}

TEST(LambdaReport, TheLast7DaysEndWithTheLastCompleteHour) {
  const std::vector<HourWindow> hours = exporter::last_7_days(*parse_iso8601_us("2026-11-29T11:00:00Z"));
  ASSERT_EQ(hours.size(), 168u);
  EXPECT_EQ(hours.front().label(), "2026-11-22T11");
  EXPECT_EQ(hours.back().label(), "2026-11-29T10");
}

}  // namespace
}  // namespace es::lambda
