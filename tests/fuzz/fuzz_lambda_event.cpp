// libFuzzer target: the Lambda invocation payload parsers (lambda::parse_event, parse_stage_event) and
// the hour plan.
//
// Invariants: no crash or sanitizer report; every error is a value of kind kInvalidArgument with code
// InvalidEvent and a message; a parsed event names whole hours, first <= last, at most
// kMaxRangeHours of them, and plans exactly those hours once they have ended.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "lambda/event.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_lambda_event: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto stage = es::lambda::parse_stage_event(payload);
  if (!stage.ok()) {
    require(stage.error().code == es::lambda::kInvalidEvent && !stage.error().message.empty(),
            "stage errors carry InvalidEvent and say why");
  } else if (stage->has_value()) {
    const es::lambda::StageEvent& s = **stage;
    require(s.hour.start_us % es::kMicrosPerHour == 0, "a stage names a whole hour");
    require(s.workers >= 1 && s.workers <= 10000 && s.unit >= 0, "workers and unit in range");
    require(s.stage != es::lambda::Stage::kMerge || !s.client.empty(), "a merge names its client");
    return 0;
  }
  auto event = es::lambda::parse_event(payload);
  if (!event.ok()) {
    const es::Error& e = event.error();
    require(e.kind == es::ErrorKind::kInvalidArgument, "errors are kInvalidArgument");
    require(e.code == es::lambda::kInvalidEvent, "errors carry the InvalidEvent code");
    require(!e.message.empty(), "errors say why");
    return 0;
  }
  const es::lambda::LambdaEvent& ev = *event;
  require(ev.first.start_us % es::kMicrosPerHour == 0 && ev.last.start_us % es::kMicrosPerHour == 0,
          "whole hours");
  require(ev.first <= ev.last, "first <= last");
  const std::int64_t hours = (ev.last.start_us - ev.first.start_us) / es::kMicrosPerHour + 1;
  require(hours >= 1 && hours <= es::lambda::kMaxRangeHours, "at most kMaxRangeHours hours");
  if (ev.kind != es::lambda::EventKind::kRange) require(ev.first == ev.last, "one hour unless a range");

  auto plan = es::lambda::plan_hours(ev, 3, ev.last.end_us());
  require(plan.ok(), "an ended hour can be planned");
  require(static_cast<std::int64_t>(plan->required.size()) == hours, "the plan holds every hour once");
  require(plan->required.front() == ev.first && plan->required.back() == ev.last, "the plan's ends");
  auto early = es::lambda::plan_hours(ev, 3, ev.last.end_us() - 1);
  require(!early.ok(), "an hour that has not ended is refused");
  return 0;
}
