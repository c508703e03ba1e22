// Lambda events: scheduled events, hour and range payloads, malformed payloads, and the hours an
// invocation plans (a retried scheduled event names the same hour).

#include <gtest/gtest.h>

#include "lambda/event.h"

namespace es::lambda {
namespace {

constexpr std::string_view kScheduled = R"({
  "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
  "source": "aws.events", "account": "123456789012", "time": "2026-11-29T11:05:00Z",
  "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/eaglesense-hourly"],
  "detail": {}
})";

HourWindow hour(std::string_view text) {
  return *HourWindow::parse_hour(text);
}

std::int64_t at(std::string_view iso) {
  return *parse_iso8601_us(iso);
}

TEST(LambdaEvent, ScheduledEventNamesTheLastCompleteHourBeforeItsTime) {
  auto e = parse_event(kScheduled);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->kind, EventKind::kScheduled);
  EXPECT_EQ(e->first, hour("2026-11-29T10"));
  EXPECT_EQ(e->last, hour("2026-11-29T10"));
  EXPECT_EQ(e->event_time_us, at("2026-11-29T11:05:00Z"));
}

TEST(LambdaEvent, RetriedScheduledEventProcessesTheSameHourWhateverTheClock) {
  // Lambda retries the same event later (up to hours later): the hour comes from the event's time,
  // never from the clock at the retry.
  auto first = parse_event(kScheduled);
  auto retry = parse_event(kScheduled);
  ASSERT_TRUE(first.ok() && retry.ok());
  auto plan_now = plan_hours(*first, 6, at("2026-11-29T11:05:02Z"));
  auto plan_later = plan_hours(*retry, 6, at("2026-11-29T14:47:00Z"));
  ASSERT_TRUE(plan_now.ok() && plan_later.ok());
  EXPECT_EQ(plan_now->required, plan_later->required);
  EXPECT_EQ(plan_now->catch_up, plan_later->catch_up);
}

TEST(LambdaEvent, ScheduledAtTheTopOfTheHourStillTakesThePreviousHour) {
  auto e =
      parse_event(R"({"detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-29T11:00:00Z"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->first, hour("2026-11-29T10"));
}

TEST(LambdaEvent, ScheduledPlanCatchesUpTheHoursBeforeOldestFirst) {
  auto e = parse_event(kScheduled);
  auto plan = plan_hours(*e, 3, at("2026-11-29T11:05:01Z"));
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_EQ(plan->required, std::vector<HourWindow>{hour("2026-11-29T10")});
  EXPECT_EQ(plan->catch_up,
            (std::vector<HourWindow>{hour("2026-11-29T07"), hour("2026-11-29T08"), hour("2026-11-29T09")}));
  auto none = plan_hours(*e, 0, at("2026-11-29T11:05:01Z"));
  EXPECT_TRUE(none->catch_up.empty());
}

TEST(LambdaEvent, HourPayload) {
  auto e = parse_event(R"({"hour":"2026-11-29T10"})");
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->kind, EventKind::kHour);
  auto plan = plan_hours(*e, 6, at("2026-11-29T12:00:00Z"));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->required, std::vector<HourWindow>{hour("2026-11-29T10")});
  EXPECT_TRUE(plan->catch_up.empty());  // a backfill does exactly what it names
}

TEST(LambdaEvent, RangePayloadIsInclusive) {
  auto e = parse_event(R"({"from":"2026-11-28T22","to":"2026-11-29T01:00:00Z"})");
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->kind, EventKind::kRange);
  auto plan = plan_hours(*e, 6, at("2026-11-29T12:00:00Z"));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->required, (std::vector<HourWindow>{hour("2026-11-28T22"), hour("2026-11-28T23"),
                                                     hour("2026-11-29T00"), hour("2026-11-29T01")}));
}

// The catch-up stage of the scheduled state-machine path names the scheduled hour from the event's time.
TEST(LambdaStageEvent, CatchUpTakesTheScheduledTime) {
  auto parsed = parse_stage_event(R"({"stage":"catch-up","time":"2026-11-29T11:05:00Z"})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_TRUE(parsed->has_value());
  EXPECT_EQ((*parsed)->stage, Stage::kCatchUp);
  EXPECT_EQ((*parsed)->hour.label(), "2026-11-29T10");
  for (std::string_view bad : {R"({"stage":"catch-up"})", R"({"stage":"catch-up","hour":"2026-11-29T10"})",
                               R"({"stage":"catch-up","time":"soon"})",
                               R"({"stage":"catch-up","time":"2026-11-29T11:05:00Z","workers":2})"}) {
    auto refused = parse_stage_event(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code, kInvalidEvent) << bad;
  }
}

TEST(LambdaEvent, AnHourThatHasNotEndedIsRefused) {
  auto e = parse_event(R"({"hour":"2026-11-29T10"})");
  auto plan = plan_hours(*e, 6, at("2026-11-29T10:59:59Z"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, kInvalidEvent);
  EXPECT_NE(plan.error().message.find("has not ended"), std::string::npos);
  EXPECT_TRUE(plan_hours(*e, 6, at("2026-11-29T11:00:00Z")).ok());
}

struct Malformed {
  std::string payload;
  std::string says;
};

void PrintTo(const Malformed& m, std::ostream* os) {
  *os << m.payload;
}

std::string case_name(const ::testing::TestParamInfo<Malformed>& info) {
  std::string name = "Case" + std::to_string(info.index) + "_";
  for (char c : info.param.says) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) name += c;
  }
  return name;
}

class LambdaEventErrors : public ::testing::TestWithParam<Malformed> {};

TEST_P(LambdaEventErrors, AreInvalidEventWithAClearMessage) {
  auto e = parse_event(GetParam().payload);
  ASSERT_FALSE(e.ok()) << GetParam().payload;
  EXPECT_EQ(e.error().code, kInvalidEvent);
  EXPECT_EQ(e.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(e.error().message.find(GetParam().says), std::string::npos) << e.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    All, LambdaEventErrors,
    ::testing::Values(
        Malformed{"", "not JSON"}, Malformed{"{", "not JSON"}, Malformed{"not json", "not JSON"},
        Malformed{"[1,2]", "not a JSON object"}, Malformed{"null", "not a JSON object"},
        Malformed{"\"2026-11-29T10\"", "not a JSON object"}, Malformed{"{}", "names no hour"},
        Malformed{R"({"hours":"2026-11-29T10"})", "names no hour"},
        Malformed{R"({"hour":"2026-11-29T10","dry":true})", "unknown member 'dry'"},
        Malformed{R"({"hour":"yesterday"})", "'hour'"}, Malformed{R"({"hour":10})", "must be a string"},
        Malformed{R"({"hour":"2026-11-29T10:30"})", "'hour'"},
        Malformed{R"({"hour":"2026-11-29T10","from":"2026-11-29T09"})", "not both"},
        Malformed{R"({"from":"2026-11-29T09"})", "give both"},
        Malformed{R"({"to":"2026-11-29T09"})", "give both"},
        Malformed{R"({"from":"2026-11-29T10","to":"2026-11-29T09"})", "before"},
        Malformed{R"({"from":"2020-01-01T00","to":"2026-11-29T09"})", "spans more than"},
        Malformed{R"({"detail-type":"Scheduled Event","source":"aws.events"})", "no 'time'"},
        Malformed{R"({"detail-type":"Scheduled Event","time":"yesterday"})", "not an ISO-8601"},
        Malformed{R"({"detail-type":"Scheduled Event","time":1764414300})", "must be a string"},
        Malformed{R"({"detail-type":"Object Created","source":"aws.s3","time":"2026-11-29T11:05:00Z"})",
                  "not a scheduled event"}),
    case_name);

}  // namespace
}  // namespace es::lambda
