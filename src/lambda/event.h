#pragma once
/// The events the Lambda function accepts, parsed (core/json_reader.h) into the hours they name.
///
/// - An EventBridge scheduled event ({"source":"aws.events","detail-type":"Scheduled Event",
///   "time":"2026-11-29T11:05:00Z",...}): the last complete hour before the event's own `time`
///   (so a retried invocation processes the same hour), plus the catch-up of earlier hours.
/// - {"hour":"2026-11-29T10"}: that hour.
/// - {"from":"2026-11-29T00","to":"2026-11-29T23"}: every hour from one to the other, inclusive.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace es::lambda {

/// Error::code of every error about the event itself (the errorType Lambda reports).
inline constexpr std::string_view kInvalidEvent = "InvalidEvent";

/// At most this many hours in one {"from","to"} payload (as `eaglesense run --from/--to`).
inline constexpr std::int64_t kMaxRangeHours = 24 * 366;

enum class EventKind { kScheduled, kHour, kRange };

struct LambdaEvent {
  EventKind kind = EventKind::kHour;
  HourWindow first;                ///< the first hour to export (scheduled: the last complete hour)
  HourWindow last;                 ///< the last one, inclusive (== first unless kRange)
  std::int64_t event_time_us = 0;  ///< scheduled: the event's `time`
};

/// The scale-out stages (docs/SCALING.md), each invoked by the Step Functions state machine:
///   {"stage":"plan","time":"<scheduled event time>","workers":W}  the last complete hour before time
///   {"stage":"plan","hour":H,"workers":W}                          that hour, even if already exported
///   {"stage":"work","hour":H,"unit":I}
///   {"stage":"list-clients","hour":H}
///   {"stage":"merge","hour":H,"client":C}
///   {"stage":"finish","hour":H}
///   {"stage":"catch-up","time":"<scheduled event time>"}   hands off the catch-up hours before the
///                                                          last complete hour that need a run
enum class Stage { kPlan, kWork, kListClients, kMerge, kFinish, kCatchUp };

struct StageEvent {
  Stage stage = Stage::kPlan;
  HourWindow hour;
  int workers = 1;             ///< plan
  bool skip_complete = false;  ///< plan from a scheduled time: nothing to do when the hour has its manifest
  int unit = 0;                ///< work
  std::string client;          ///< merge
  std::string run_id;  ///< plan: who holds the hour's lease (the execution's name); "": the request id
};

/// A payload with a "stage" member as a StageEvent; std::nullopt when it has none (then it is one of
/// parse_event's forms). Error code kInvalidEvent naming the member that is missing or wrong.
[[nodiscard]] Result<std::optional<StageEvent>> parse_stage_event(std::string_view payload);

/// Parses an invocation payload. Error kInvalidArgument, code kInvalidEvent, with a message that
/// says what is wrong and what is accepted: not JSON, not an object, a scheduled event without a
/// valid `time`, an hour that does not parse, `from` without `to`, `to` before `from`, a range over
/// kMaxRangeHours, both `hour` and `from`, or a member that none of the forms has.
[[nodiscard]] Result<LambdaEvent> parse_event(std::string_view payload);

/// The hours an invocation works on, in order: `required` first (always attempted), then
/// `catch_up` (oldest first; attempted only when their manifest is missing).
struct HourPlan {
  std::vector<HourWindow> required;
  std::vector<HourWindow> catch_up;
};

/// Plans event at now_us. A scheduled event gets its catch_up_hours hours before its own hour as
/// catch-up; the direct payloads none. Error (code kInvalidEvent) when an hour to export has not
/// ended yet at now_us: exporting it would write a manifest for an incomplete hour, and the
/// catch-up would then never repeat it.
[[nodiscard]] Result<HourPlan> plan_hours(const LambdaEvent& event, int catch_up_hours, std::int64_t now_us);

}  // namespace es::lambda
