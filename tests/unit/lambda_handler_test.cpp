// The Lambda handler on in-memory ports: the hours an event exports, catch-up, deadline decisions,
// responses and errors (InvalidEvent, Undeliverable, HourFailed), the EMF record.

#include <gtest/gtest.h>
#include <simdjson.h>

#include "aws/stepfunctions_client.h"
#include "core/deadline.h"
#include "core/hash.h"
#include "core/log.h"
#include "export/hour_lease.h"
#include "export/scale_out.h"
#include "lambda/handler.h"
#include "support/fake_ports.h"
#include "support/lambda_world.h"

namespace es::lambda {
namespace {

using es::testing::FakeStoreData;
using es::testing::FakeTableData;

std::int64_t at(std::string_view iso) {
  return *parse_iso8601_us(iso);
}

std::string item(std::string_view id, std::string_view client, std::string_view time) {
  return fmt::format(R"({{"eventId":{{"S":"{}"}},"clientId":{{"S":"{}"}},"time":{{"S":"{}"}}}})", id, client,
                     time);
}

constexpr std::string_view kScheduled =
    R"({"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events",)"
    R"("account":"123456789012","time":"2026-11-29T11:05:00Z","region":"us-east-1","resources":[],"detail":{}})";

struct World : es::testing::LambdaWorld {
  explicit World(int catch_up = 2)
      : LambdaWorld("ce", {"acme"}, 2,
                    {item("a1", "acme", "2026-11-29T10:10:00Z"), item("a2", "acme", "2026-11-29T09:20:00Z"),
                     item("a3", "acme", "2026-11-29T08:30:00Z")},
                    at("2026-11-29T11:05:01Z")) {
    context.function_name = "eaglesense-test";
    context.catch_up_hours = catch_up;
    context.peak_rss_bytes = [] { return std::uint64_t{1} << 20; };
  }

  bool has(const std::string& id) { return store.objects.contains(id); }
};

std::vector<std::string> statuses(simdjson::dom::element summary) {
  std::vector<std::string> out;
  for (simdjson::dom::element h : summary["hours"].get_array()) {
    out.push_back(std::string(std::string_view(h["hour"])) + " " +
                  std::string(std::string_view(h["status"])));
  }
  return out;
}

/// "HOUR REASON" for each of hours_not_done (and " -> EXECUTION" when handed off).
std::vector<std::string> not_done_reasons(simdjson::dom::element summary) {
  std::vector<std::string> out;
  for (simdjson::dom::element h : summary["hours_not_done"].get_array()) {
    std::string line =
        std::string(std::string_view(h["hour"])) + " " + std::string(std::string_view(h["reason"]));
    std::string_view to;
    if (h["handed_off_to"].get(to) == simdjson::SUCCESS) line += " -> " + std::string(to);
    out.push_back(std::move(line));
  }
  return out;
}

/// The hours of hours_not_done (any reason).
std::vector<std::string> not_done(simdjson::dom::element summary) {
  std::vector<std::string> out;
  for (simdjson::dom::element h : summary["hours_not_done"].get_array())
    out.emplace_back(std::string_view(h["hour"]));
  return out;
}

TEST(EnoughTimeForHour, FollowsTheBudgetAndTheLastHour) {
  const std::int64_t now = 1'000 * kMicrosPerSecond;
  const std::int64_t budget = 120 * kMicrosPerSecond;
  EXPECT_TRUE(enough_time_for_hour(now, 0, budget, std::nullopt));  // no deadline
  EXPECT_TRUE(enough_time_for_hour(now, now + budget, budget, std::nullopt));
  EXPECT_FALSE(enough_time_for_hour(now, now + budget - 1, budget, std::nullopt));
  EXPECT_FALSE(enough_time_for_hour(now, now - 5 * kMicrosPerSecond, budget, std::nullopt));  // past deadline
  // A last hour of 100 s asks for 150 s, more than the budget.
  EXPECT_FALSE(enough_time_for_hour(now, now + 149 * kMicrosPerSecond, budget, 100 * kMicrosPerSecond));
  EXPECT_TRUE(enough_time_for_hour(now, now + 150 * kMicrosPerSecond, budget, 100 * kMicrosPerSecond));
  // A quick last hour does not lower the budget.
  EXPECT_FALSE(enough_time_for_hour(now, now + 60 * kMicrosPerSecond, budget, kMicrosPerSecond));
}

TEST(LambdaSettings, CatchUpHoursAndHourBudgetAreValidated) {
  auto defaults = load_export_config(map_environment({}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->catch_up_hours, 6);
  EXPECT_EQ(defaults->hour_budget_seconds, 120);
  auto set = load_export_config(
      map_environment({{"EAGLESENSE_CATCH_UP_HOURS", "0"}, {"EAGLESENSE_HOUR_BUDGET_SECONDS", "30"}}));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->catch_up_hours, 0);
  EXPECT_EQ(set->hour_budget_seconds, 30);
  for (auto [name, value] :
       {std::pair{"EAGLESENSE_CATCH_UP_HOURS", "-1"}, std::pair{"EAGLESENSE_CATCH_UP_HOURS", "169"},
        std::pair{"EAGLESENSE_HOUR_BUDGET_SECONDS", "0"},
        std::pair{"EAGLESENSE_HOUR_BUDGET_SECONDS", "2m"}}) {
    auto bad = load_export_config(map_environment({{name, value}}));
    ASSERT_FALSE(bad.ok()) << name << "=" << value;
    EXPECT_EQ(bad.error().resource, name);
  }
}

TEST(LambdaHandler, ScheduledEventExportsItsHourThenCatchesUp) {
  World w(2);
  auto result = w.invoke(kScheduled);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(*result);
  EXPECT_EQ(statuses(summary), (std::vector<std::string>{"2026-11-29T10 exported", "2026-11-29T08 exported",
                                                         "2026-11-29T09 exported"}));
  EXPECT_TRUE(not_done(summary).empty());
  EXPECT_EQ(std::uint64_t(summary["events_delivered"]), 3u);
  EXPECT_TRUE(w.has("ce-acme/events-2026-11-29-10.json"));
  EXPECT_TRUE(w.has("ce-acme/events-2026-11-29-08.json"));
  EXPECT_TRUE(w.has("ce-ops/manifests/2026/11/29/09.json"));

  // The retry of the same event: its own hour again (identical bytes), catch-up hours now complete.
  const std::string before = w.store.objects.at("ce-acme/events-2026-11-29-10.json").body;
  w.now = at("2026-11-29T13:00:00Z");
  auto retry = w.invoke(kScheduled);
  ASSERT_TRUE(retry.ok()) << retry.error().to_string();
  simdjson::dom::parser parser2;
  simdjson::dom::element again = parser2.parse(*retry);
  EXPECT_EQ(statuses(again), (std::vector<std::string>{"2026-11-29T10 exported", "2026-11-29T08 skipped",
                                                       "2026-11-29T09 skipped"}));
  EXPECT_EQ(w.store.objects.at("ce-acme/events-2026-11-29-10.json").body, before);
}

TEST(LambdaHandler, HourPayloadExportsThatHourOnly) {
  World w;
  auto result = w.invoke(R"({"hour":"2026-11-29T09"})");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  EXPECT_EQ(statuses(parser.parse(*result)), std::vector<std::string>{"2026-11-29T09 exported"});
  EXPECT_TRUE(w.has("ce-acme/events-2026-11-29-09.json"));
  EXPECT_FALSE(w.has("ce-acme/events-2026-11-29-10.json"));
}

TEST(LambdaHandler, NearTheDeadlineStartsTheFirstHourAndReportsTheRest) {
  World w(3);
  w.context.hour_budget_us = 120 * kMicrosPerSecond;
  ASSERT_TRUE(w.invoke(R"({"hour":"2026-11-29T08"})").ok());  // 08 is complete already, and unchanged
  const std::int64_t deadline_ms = (w.now + 60 * kMicrosPerSecond) / 1000;  // one minute left
  auto result = w.invoke(kScheduled, deadline_ms);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(*result);
  EXPECT_EQ(statuses(summary), (std::vector<std::string>{"2026-11-29T10 exported", "2026-11-29T08 skipped"}));
  // Only hours that still need a run are reported; the next scheduled run's catch-up takes them.
  EXPECT_EQ(not_done(summary), (std::vector<std::string>{"2026-11-29T07", "2026-11-29T09"}));
  EXPECT_FALSE(w.has("ce-ops/manifests/2026/11/29/09.json"));
}

TEST(LambdaHandler, RangeStopsStartingHoursWhenTimeRunsOut) {
  World w;
  w.context.hour_budget_us = 10 * kMicrosPerSecond;
  // Each call of the clock moves it 4 s on: after a few hours, less than 10 s remain.
  w.context.now_us = [&w] { return w.now += 4 * kMicrosPerSecond; };
  const std::int64_t deadline_ms = (w.now + 30 * kMicrosPerSecond) / 1000;
  auto result = w.invoke(R"({"from":"2026-11-29T05","to":"2026-11-29T10"})", deadline_ms);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(*result);
  const auto done = statuses(summary);
  const auto left = not_done(summary);
  EXPECT_GE(done.size(), 1u);
  EXPECT_GE(left.size(), 1u);
  EXPECT_EQ(done.size() + left.size(), 6u);
  EXPECT_EQ(left.back(), "2026-11-29T10");
}

TEST(LambdaHandler, UndeliverableEventsAreAnInvocationErrorCarryingTheSummary) {
  World w;
  w.table.items.push_back(item("g1", "gone", "2026-11-29T10:20:00Z"));
  auto result = w.invoke(R"({"hour":"2026-11-29T10"})");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kUndeliverable);
  simdjson::dom::parser parser;
  simdjson::dom::element summary;
  ASSERT_EQ(parser.parse(result.error().message).get(summary), simdjson::SUCCESS) << result.error().message;
  EXPECT_EQ(std::uint64_t(summary["events_undeliverable"]), 1u);
  EXPECT_EQ(std::uint64_t(summary["events_delivered"]), 1u);
  EXPECT_TRUE(w.has("ce-ops/undeliverable/gone/events-2026-11-29-10.json"));
}

TEST(LambdaHandler, AFailedHourIsAnInvocationError) {
  World w;
  Error e;
  e.kind = ErrorKind::kThrottled;
  e.code = "ProvisionedThroughputExceededException";
  e.message = "slow down";
  w.table.fail_with = e;
  auto result = w.invoke(R"({"hour":"2026-11-29T10"})");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kHourFailed);
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(result.error().message);
  EXPECT_EQ(std::uint64_t(summary["hours_failed"]), 1u);
}

TEST(LambdaHandler, MalformedPayloadIsInvalidEventAndTouchesNothing) {
  World w;
  for (std::string_view payload :
       {"", "{", "[]", R"({"hour":"soon"})", R"({"detail-type":"Scheduled Event"})"}) {
    auto result = w.invoke(payload);
    ASSERT_FALSE(result.ok()) << payload;
    EXPECT_EQ(result.error().code, kInvalidEvent) << payload;
  }
  EXPECT_EQ(w.table.requests, 0);
  EXPECT_TRUE(w.store.objects.empty());
  EXPECT_EQ(w.emf_text(), "");  // no run, no metrics
}

TEST(LambdaHandler, WritesOneEmfRecordPerInvocation) {
  World w;
  ASSERT_TRUE(w.invoke(R"({"hour":"2026-11-29T10"})").ok());
  const std::string text = w.emf_text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  simdjson::dom::parser parser;
  simdjson::dom::element record = parser.parse(text);
  EXPECT_EQ(std::string_view(record["FunctionName"]), "eaglesense-test");
  EXPECT_EQ(std::string_view(record["RequestId"]), "req-1");
  EXPECT_EQ(double(record["EventsDelivered"]), 1);
  EXPECT_EQ(double(record["HoursExported"]), 1);
  EXPECT_EQ(double(record["PeakRssBytes"]), 1 << 20);
}

// The deadline: an hour whose calls meet it is stopped (its lease given back, no manifest) and handed
// to the state machine as its own execution; without one, the invocation fails with the reason.
struct Execution {
  std::string name;
  std::string input;
  std::int64_t stop_us = 0;   ///< the deadline's stop when it was started
  std::int64_t limit_us = 0;  ///< the limit its call had (a clean-up call: the end)
};

void record_executions(World& w, std::vector<Execution>& started,
                       std::optional<Error> answer = std::nullopt) {
  w.context.deadline = std::make_shared<Deadline>();
  w.context.start_execution = [&w, &started, answer](std::string_view name,
                                                     std::string_view input) -> Result<std::string> {
    started.push_back({std::string(name), std::string(input), w.context.deadline->stop_us(),
                       w.context.deadline->limit_us()});
    if (answer) return *answer;
    return "arn:aws:states:us-east-1:123456789012:execution:es-export:" + std::string(name);
  };
}

TEST(LambdaDeadline, TheMarginIsTenSecondsOrAQuarterOfTheTimeLeft) {
  EXPECT_EQ(deadline_margin_us(900 * kMicrosPerSecond), 10 * kMicrosPerSecond);
  EXPECT_EQ(deadline_margin_us(40 * kMicrosPerSecond), 10 * kMicrosPerSecond);
  EXPECT_EQ(deadline_margin_us(4 * kMicrosPerSecond), kMicrosPerSecond);
  EXPECT_EQ(deadline_margin_us(-kMicrosPerSecond), 0);
  EXPECT_EQ(hand_off_execution_name(*HourWindow::parse_hour("2026-11-29T10")), "hour-2026-11-29T10");
}

TEST(LambdaDeadline, AStoppedHourIsHandedToTheStateMachine) {
  World w;
  std::vector<Execution> started;
  record_executions(w, started);
  w.table.fail_with = deadline_exceeded("DynamoDB.Scan", "");
  const std::int64_t deadline_ms = (w.now + 60 * kMicrosPerSecond) / 1000;
  auto result = w.invoke(R"({"hour":"2026-11-29T10"})", deadline_ms);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(*result);
  const std::string arn = "arn:aws:states:us-east-1:123456789012:execution:es-export:hour-2026-11-29T10";
  EXPECT_EQ(statuses(summary), (std::vector<std::string>{"2026-11-29T10 stopped"}));
  EXPECT_EQ(not_done_reasons(summary), (std::vector<std::string>{"2026-11-29T10 deadline -> " + arn}));
  EXPECT_EQ(std::uint64_t(summary["hours_stopped"]), 1u);
  EXPECT_EQ(std::uint64_t(summary["hours_failed"]), 0u);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].name, "hour-2026-11-29T10");
  EXPECT_EQ(started[0].input, R"({"hour":"2026-11-29T10"})");
  // Work stopped 10 s before the deadline; the hand-off, a clean-up call, had until 2.5 s before it.
  EXPECT_EQ(started[0].stop_us, deadline_ms * 1000 - 10 * kMicrosPerSecond);
  EXPECT_EQ(started[0].limit_us, deadline_ms * 1000 - 10 * kMicrosPerSecond / 4);
  EXPECT_EQ(w.context.deadline->stop_us(), 0);  // cleared after the invocation
  // Nothing marks the hour complete, and its lease is given back.
  EXPECT_FALSE(w.has("ce-ops/manifests/2026/11/29/10.json"));
  EXPECT_FALSE(w.has("ce-ops/locks/2026-11-29T10.json"));
}

TEST(LambdaDeadline, WithoutAStateMachineAStoppedHourFailsTheInvocation) {
  World w;
  w.context.deadline = std::make_shared<Deadline>();
  w.table.fail_with = deadline_exceeded("DynamoDB.Scan", "");
  auto result = w.invoke(R"({"hour":"2026-11-29T10"})", (w.now + 60 * kMicrosPerSecond) / 1000);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kHourFailed);
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(result.error().message);
  EXPECT_EQ(not_done_reasons(summary), (std::vector<std::string>{"2026-11-29T10 deadline"}));
  const std::string_view error = summary["hours"].at(0)["error"];
  EXPECT_NE(error.find("DeadlineExceeded"), std::string_view::npos) << error;
  EXPECT_NE(error.find("EAGLESENSE_STATE_MACHINE_ARN"), std::string_view::npos) << error;
  EXPECT_FALSE(w.has("ce-ops/manifests/2026/11/29/10.json"));
}

TEST(LambdaDeadline, ASecondHandOffOfTheSameHourIsRefusedAndFails) {
  World w;
  std::vector<Execution> started;
  Error exists;
  exists.kind = ErrorKind::kServiceError;
  exists.code = std::string(aws::kExecutionAlreadyExists);
  exists.message = "Execution Already Exists";
  record_executions(w, started, exists);
  w.table.fail_with = deadline_exceeded("DynamoDB.Scan", "");
  auto result = w.invoke(R"({"hour":"2026-11-29T10"})", (w.now + 60 * kMicrosPerSecond) / 1000);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kHourFailed);
  EXPECT_NE(result.error().message.find("exists already"), std::string::npos) << result.error().message;
  EXPECT_EQ(started.size(), 1u);
}

// One scan reads the scheduled hour and its catch-up hours: when the deadline stops it, the hours
// without a manifest are handed off, and a catch-up hour whose manifest stands is simply not rechecked.
TEST(LambdaDeadline, AStoppedScanHandsOffOnlyTheHoursWithoutAManifest) {
  World w;
  std::vector<Execution> started;
  record_executions(w, started);
  ASSERT_TRUE(w.exporter->export_hour(*HourWindow::parse_hour("2026-11-29T08")).ok());
  w.table.fail_with = deadline_exceeded("DynamoDB.Scan", "");
  auto result = w.invoke(kScheduled, (w.now + 60 * kMicrosPerSecond) / 1000);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(*result);
  EXPECT_EQ(statuses(summary), (std::vector<std::string>{"2026-11-29T10 stopped", "2026-11-29T09 stopped"}));
  const auto reasons = not_done_reasons(summary);
  ASSERT_EQ(reasons.size(), 3u) << *result;
  EXPECT_EQ(reasons[2], "2026-11-29T08 no_time");
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0].name, "hour-2026-11-29T10");
  EXPECT_EQ(started[1].name, "hour-2026-11-29T09");
}

// A client whose write meets the deadline is not undeliverable: the hour stops as a whole.
TEST(LambdaDeadline, AWriteStoppedByTheDeadlineStopsTheHourAndSetsNothingAside) {
  World w;
  std::vector<Execution> started;
  record_executions(w, started);
  w.store.failing_writes.emplace("ce-acme/", deadline_exceeded("S3.PutObject", ""));
  auto result = w.invoke(R"({"hour":"2026-11-29T10"})", (w.now + 60 * kMicrosPerSecond) / 1000);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(*result);
  EXPECT_EQ(statuses(summary), (std::vector<std::string>{"2026-11-29T10 stopped"}));
  EXPECT_EQ(std::uint64_t(summary["events_undeliverable"]), 0u);
  EXPECT_FALSE(w.has("ce-ops/undeliverable/acme/events-2026-11-29-10.json"));
  EXPECT_FALSE(w.has("ce-ops/manifests/2026/11/29/10.json"));
  EXPECT_EQ(started.size(), 1u);
}

// The scheduled state-machine path's catch-up: each earlier hour without a manifest or a live lease
// becomes its own execution.
TEST(LambdaStages, CatchUpHandsOffTheHoursThatNeedARun) {
  World w(3);
  std::vector<Execution> started;
  record_executions(w, started);
  // 08: complete; 09: leased by a running execution; 07: nothing yet.
  ASSERT_TRUE(w.exporter->export_hour(*HourWindow::parse_hour("2026-11-29T08")).ok());
  exporter::LeaseBody lease{"exec-9", "state machine", w.now, w.now + 600 * kMicrosPerSecond};
  w.store.objects["ce-ops/locks/2026-11-29T09.json"].body = exporter::render_lease(lease);
  auto result = w.invoke(R"({"stage":"catch-up","time":"2026-11-29T11:05:00Z"})");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element out = parser.parse(*result);
  EXPECT_EQ(std::string_view(out["hour"]), "2026-11-29T10");
  ASSERT_EQ(started.size(), 1u) << *result;
  EXPECT_EQ(started[0].name, "hour-2026-11-29T07");
  EXPECT_EQ(std::string_view(out["hours_handed_off"].at(0)["hour"]), "2026-11-29T07");
  EXPECT_EQ(std::string_view(out["hours_complete"].at(0)), "2026-11-29T08");
  EXPECT_EQ(std::string_view(out["hours_leased"].at(0)), "2026-11-29T09");
  // Without a state machine the stage is a configuration error, not retried.
  w.context.start_execution = nullptr;
  auto refused = w.invoke(R"({"stage":"catch-up","time":"2026-11-29T11:05:00Z"})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kInvalidEvent);
}

TEST(LambdaSummary, AddsTheHoursNotDone) {
  exporter::RunSummary s;
  const std::string json = render_lambda_summary(
      s, {*HourWindow::parse_hour("2026-11-29T08"), *HourWindow::parse_hour("2026-11-29T09")});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(not_done_reasons(doc),
            (std::vector<std::string>{"2026-11-29T08 no_time", "2026-11-29T09 no_time"}));
  EXPECT_EQ(std::uint64_t(doc["events_read"]), 0u);
  EXPECT_NE(json.back(), '\n');
}

}  // namespace

// The scale-out stages, invoked as the state machine does: plan -> work units -> list-clients ->
// merges -> finish; the outputs are the items the next Map state reads.
TEST(LambdaSettings, TheMemoryBudgetFollowsTheFunctionsMemory) {
  EXPECT_EQ(default_memory_budget_mb("1024"), 768u);
  EXPECT_EQ(default_memory_budget_mb("10240"), 7680u);
  EXPECT_EQ(default_memory_budget_mb("128"), 96u);
  EXPECT_EQ(default_memory_budget_mb(std::nullopt), std::nullopt);
  for (const char* bad : {"", "64", "1e3", "-1024", "1024 ", "99999999"}) {
    EXPECT_EQ(default_memory_budget_mb(std::string(bad)), std::nullopt) << bad;
  }
}

TEST(LambdaHandler, AnHourLeasedByAnotherRunIsReportedNotAnError) {
  World w;
  const std::int64_t until = w.now + 600 * kMicrosPerSecond;
  const std::string lease = exporter::render_lease({"other-run", "host x pid 1", w.now, until});
  w.store.objects["ce-ops/locks/2026-11-29T09.json"] = {lease, {}, hex_encode(md5(lease)), ""};
  auto result = w.invoke(R"({"hour":"2026-11-29T09"})", w.now / 1000 + 900'000);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element out = parser.parse(*result);
  EXPECT_EQ(statuses(out), std::vector<std::string>{"2026-11-29T09 leased"});
  EXPECT_EQ(std::string_view(out["run_id"]), "req-1");
  EXPECT_EQ(std::string_view(out["hours"].at(0)["leased_by"]), "other-run");
  EXPECT_FALSE(w.has("ce-acme/events-2026-11-29-09.json"));
  EXPECT_TRUE(w.has("ce-ops/locks/2026-11-29T09.json"));
}

TEST(LambdaHandler, HoldsItsLeasesUntilItsDeadlineAndAMinute) {
  World w;
  std::string seen;  // the lease as it is given back
  w.store.on_request = [&](es::testing::FakeStoreData& data, std::string_view operation,
                           const std::string& id) {
    if (operation == "DeleteObject" && data.objects.contains(id)) seen = data.objects.at(id).body;
  };
  const std::int64_t deadline_ms = w.now / 1000 + 300'000;
  static_cast<void>(w.invoke(R"({"hour":"2026-11-29T09"})", deadline_ms));
  auto lease = exporter::parse_lease(seen);
  ASSERT_TRUE(lease.ok()) << seen;
  EXPECT_EQ(lease->run_id, "req-1");
  EXPECT_EQ(lease->holder, "lambda request req-1");
  EXPECT_EQ(lease->expires_us, deadline_ms * 1000 + 60 * kMicrosPerSecond);
  EXPECT_FALSE(w.has("ce-ops/locks/2026-11-29T09.json"));  // given back
}

TEST(LambdaStages, ThePlanTakesTheLeaseUnderTheExecutionsName) {
  World w;
  auto plan = w.invoke(R"({"stage":"plan","hour":"2026-11-29T10","workers":2,"run_id":"exec-9"})");
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  auto lease = exporter::parse_lease(w.store.objects.at("ce-ops/locks/2026-11-29T10.json").body);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->run_id, "exec-9");
  EXPECT_EQ(lease->expires_us, w.now + kDefaultLeaseSeconds * kMicrosPerSecond);

  // Another execution of the hour plans nothing.
  auto second = w.invoke(R"({"stage":"plan","hour":"2026-11-29T10","workers":2,"run_id":"exec-10"})");
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element out = parser.parse(*second);
  EXPECT_TRUE(bool(out["leased"]));
  EXPECT_EQ(std::string_view(out["leased_by"]), "exec-9");
  EXPECT_EQ(out["units"].get_array().size(), 0u);
}

// The expected bucket owner's default in Lambda: the account in the invoked function's ARN.
TEST(LambdaSettings, TheFunctionsOwnAccountComesFromItsArn) {
  EXPECT_EQ(account_of_function_arn("arn:aws:lambda:us-east-1:123456789012:function:eaglesense"),
            "123456789012");
  EXPECT_EQ(account_of_function_arn("arn:aws:lambda:eu-west-1:210987654321:function:es:live"),
            "210987654321");
  EXPECT_EQ(account_of_function_arn("arn:aws-cn:lambda:cn-north-1:111122223333:function:es"), "111122223333");
  for (const char* bad : {"", "arn:aws:lambda:us-east-1:123456789012:function:", "arn:aws:s3:::bucket",
                          "arn:aws:lambda:us-east-1:12345:function:es",
                          "arn:aws:lambda:us-east-1:123456789012:layer:es", "not an arn"}) {
    EXPECT_EQ(account_of_function_arn(bad), std::nullopt) << bad;
  }
  ExportConfig config;
  config.default_bucket_owner(*account_of_function_arn("arn:aws:lambda:us-east-1:123456789012:function:es"));
  EXPECT_EQ(config.bucket_owner("client-events-acme"), "123456789012");
}

TEST(LambdaStages, RunAnHourAsTheStateMachineDoes) {
  World w;
  w.table.items.push_back(item("g1", "gone", "2026-11-29T10:20:00Z"));
  auto plan = w.invoke(R"({"stage":"plan","time":"2026-11-29T11:05:00Z","workers":3})");
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  simdjson::dom::parser parser;
  simdjson::dom::element out = parser.parse(*plan);
  EXPECT_EQ(std::string_view(out["hour"]), "2026-11-29T10");
  EXPECT_FALSE(bool(out["complete"]));
  std::vector<std::string> units;
  for (simdjson::dom::element u : out["units"].get_array()) units.push_back(simdjson::minify(u));
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(units[1], R"({"stage":"work","hour":"2026-11-29T10","unit":1})");

  // A merge before the units are done is refused as not ready (the Map retries it).
  auto early = w.invoke(R"({"stage":"merge","hour":"2026-11-29T10","client":"acme"})");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, exporter::kStageNotReady);

  for (const auto& u : units) ASSERT_TRUE(w.invoke(u).ok()) << u;
  auto listed = w.invoke(R"({"stage":"list-clients","hour":"2026-11-29T10"})");
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  simdjson::dom::parser p2;
  simdjson::dom::element l = p2.parse(*listed);
  EXPECT_EQ(std::uint64_t(l["clients"]), 2u);
  EXPECT_EQ(std::string_view(l["items_bucket"]), "ce-ops");
  const std::string items =
      w.store.objects.at("ce-ops/" + std::string(std::string_view(l["items_key"]))).body;
  EXPECT_NE(items.find(R"({"stage":"merge","hour":"2026-11-29T10","client":"gone"})"), std::string::npos);

  ASSERT_TRUE(w.invoke(R"({"stage":"merge","hour":"2026-11-29T10","client":"acme"})").ok());
  // The client without a bucket: kept in the ops bucket, the merge itself succeeds.
  auto gone = w.invoke(R"({"stage":"merge","hour":"2026-11-29T10","client":"gone"})");
  ASSERT_TRUE(gone.ok()) << gone.error().to_string();
  EXPECT_NE(gone->find(R"("status":"undeliverable")"), std::string::npos);

  auto finish = w.invoke(R"({"stage":"finish","hour":"2026-11-29T10"})");
  ASSERT_FALSE(finish.ok());
  EXPECT_EQ(finish.error().code, kUndeliverable);  // as the single function reports it
  EXPECT_TRUE(w.has("ce-ops/manifests/2026/11/29/10.json"));
  EXPECT_TRUE(w.has("ce-acme/events-2026-11-29-10.json"));
  EXPECT_NE(w.emf_text().find("HoursExported"), std::string::npos);  // finish emits the hour's metrics

  // The next scheduled plan of the same hour finds it complete.
  auto again = w.invoke(R"({"stage":"plan","time":"2026-11-29T11:05:00Z","workers":3})");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->find(R"("complete":true)"), std::string::npos);
}

TEST(LambdaStages, MalformedStageEventsAreInvalidEvents) {
  World w;
  for (std::string_view payload : {
           R"({"stage":"reduce","hour":"2026-11-29T10"})",
           R"({"stage":"plan","workers":2})",
           R"({"stage":"plan","hour":"2026-11-29T10","time":"2026-11-29T11:05:00Z","workers":2})",
           R"({"stage":"plan","hour":"2026-11-29T10","workers":0})",
           R"({"stage":"plan","hour":"2026-11-29T10"})",
           R"({"stage":"plan","hour":"2026-11-29T12","workers":2})",
           R"({"stage":"work","hour":"2026-11-29T10"})",
           R"({"stage":"work","hour":"2026-11-29T10","unit":"1"})",
           R"({"stage":"merge","hour":"2026-11-29T10"})",
           R"({"stage":"finish"})",
           R"({"stage":"finish","hour":"2026-11-29T10","extra":1})",
       }) {
    auto result = w.invoke(payload);
    ASSERT_FALSE(result.ok()) << payload;
    EXPECT_EQ(result.error().code, kInvalidEvent) << payload << ": " << result.error().to_string();
  }
  EXPECT_TRUE(w.store.objects.empty());
}

}  // namespace es::lambda
