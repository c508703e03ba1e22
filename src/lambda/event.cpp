#include "lambda/event.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "core/json_reader.h"

namespace es::lambda {
namespace {

constexpr std::string_view kAccepted =
    R"(accepted: an EventBridge scheduled event, {"hour":"2026-11-29T10"} or {"from":"2026-11-29T00","to":"2026-11-29T23"})";

Error invalid_event(std::string message) {
  Error e = Error::invalid_argument("event", std::move(message));
  e.code = std::string(kInvalidEvent);
  e.operation = "lambda.event";
  return e;
}

// A member's string value; an error names the member when it is there with another type.
// A member that is there with null is there with another type.
Result<std::optional<std::string_view>> string_member(const json::Value& object, std::string_view name) {
  auto value = object[name];
  if (!value.ok()) return std::optional<std::string_view>();
  auto text = value->string();
  if (!text.ok()) return invalid_event(fmt::format("'{}' must be a string", name));
  return std::optional<std::string_view>(*text);
}

// The names of the object's members, in document order.
std::vector<std::string_view> member_names(const json::Value& object) {
  std::vector<std::string_view> names;
  if (auto members = object.members(); members.ok()) {
    for (const auto& [name, value] : *members) names.push_back(name);
  }
  return names;
}

Result<HourWindow> parse_hour_member(std::string_view name, std::string_view text) {
  auto hour = HourWindow::parse_hour(text);
  if (!hour.ok()) {
    return invalid_event(
        fmt::format("'{}': {} (expected an hour such as 2026-11-29T10)", name, hour.error().message));
  }
  return *hour;
}

Result<LambdaEvent> parse_scheduled(const json::Value& object) {
  ES_ASSIGN_OR_RETURN(auto detail_type, string_member(object, "detail-type"));
  ES_ASSIGN_OR_RETURN(auto source, string_member(object, "source"));
  if (detail_type != std::optional<std::string_view>("Scheduled Event")) {
    return invalid_event(
        fmt::format("an EventBridge event of detail-type '{}' from '{}' is not a scheduled event; {}",
                    detail_type.value_or(""), source.value_or(""), kAccepted));
  }
  ES_ASSIGN_OR_RETURN(auto time, string_member(object, "time"));
  if (!time) return invalid_event("the scheduled event has no 'time'");
  auto instant = parse_iso8601_us(*time);
  if (!instant.ok()) {
    return invalid_event(fmt::format("the scheduled event's 'time' '{}' is not an ISO-8601 instant: {}",
                                     *time, instant.error().message));
  }
  LambdaEvent event;
  event.kind = EventKind::kScheduled;
  event.event_time_us = *instant;
  event.first = HourWindow::last_complete_hour(*instant);
  event.last = event.first;
  return event;
}

Result<LambdaEvent> parse_direct(const json::Value& object) {
  for (const std::string_view key : member_names(object)) {
    if (key != "hour" && key != "from" && key != "to") {
      return invalid_event(fmt::format("unknown member '{}'; {}", key, kAccepted));
    }
  }
  ES_ASSIGN_OR_RETURN(auto hour, string_member(object, "hour"));
  ES_ASSIGN_OR_RETURN(auto from, string_member(object, "from"));
  ES_ASSIGN_OR_RETURN(auto to, string_member(object, "to"));
  LambdaEvent event;
  if (hour) {
    if (from || to) return invalid_event("give either 'hour' or 'from' and 'to', not both");
    ES_ASSIGN_OR_RETURN(event.first, parse_hour_member("hour", *hour));
    event.kind = EventKind::kHour;
    event.last = event.first;
    return event;
  }
  if (!from || !to) return invalid_event("give both 'from' and 'to'");
  ES_ASSIGN_OR_RETURN(event.first, parse_hour_member("from", *from));
  ES_ASSIGN_OR_RETURN(event.last, parse_hour_member("to", *to));
  if (event.last < event.first) return invalid_event(fmt::format("'to' {} is before 'from' {}", *to, *from));
  if ((event.last.start_us - event.first.start_us) / kMicrosPerHour + 1 > kMaxRangeHours) {
    return invalid_event(
        fmt::format("'from' {} to 'to' {} spans more than {} hours", *from, *to, kMaxRangeHours));
  }
  event.kind = EventKind::kRange;
  return event;
}

Result<std::int64_t> int_member(const json::Value& object, std::string_view name, std::int64_t min,
                                std::int64_t max) {
  auto value = object[name];
  if (!value.ok()) return invalid_event(fmt::format("'{}' is missing", name));
  auto v = value->int64();
  if (!v.ok() || *v < min || *v > max) {
    return invalid_event(fmt::format("'{}' must be an integer from {} to {}", name, min, max));
  }
  return *v;
}

// The payload as a document; the error is the parser's (parse_event words it for the caller).
Result<json::Value> parse_payload(std::string_view payload) {
  return json::parse_document(payload, "lambda event");
}

}  // namespace

Result<std::optional<StageEvent>> parse_stage_event(std::string_view payload) {
  auto doc = parse_payload(payload);
  if (!doc.ok() || !doc->is_object()) return std::optional<StageEvent>();  // parse_event explains
  const json::Value& object = *doc;
  ES_ASSIGN_OR_RETURN(auto stage, string_member(object, "stage"));
  if (!stage) return std::optional<StageEvent>();
  StageEvent event;
  std::vector<std::string_view> allowed = {"stage", "hour"};
  if (*stage == "plan") {
    event.stage = Stage::kPlan;
    allowed.insert(allowed.end(), {"time", "workers", "run_id"});
  } else if (*stage == "work") {
    event.stage = Stage::kWork;
    allowed.emplace_back("unit");
  } else if (*stage == "list-clients") {
    event.stage = Stage::kListClients;
  } else if (*stage == "merge") {
    event.stage = Stage::kMerge;
    allowed.emplace_back("client");
  } else if (*stage == "finish") {
    event.stage = Stage::kFinish;
  } else if (*stage == "catch-up") {
    event.stage = Stage::kCatchUp;
    allowed = {"stage", "time"};
  } else {
    return invalid_event(
        fmt::format("unknown stage '{}' (plan, work, list-clients, merge, finish or catch-up)", *stage));
  }
  for (const std::string_view key : member_names(object)) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return invalid_event(fmt::format("unknown member '{}' for stage '{}'", key, *stage));
    }
  }
  ES_ASSIGN_OR_RETURN(auto hour, string_member(object, "hour"));
  if (event.stage == Stage::kPlan || event.stage == Stage::kCatchUp) {
    ES_ASSIGN_OR_RETURN(auto time, string_member(object, "time"));
    if (event.stage == Stage::kCatchUp && !time) return invalid_event("the catch-up stage needs 'time'");
    if (hour.has_value() == time.has_value())
      return invalid_event("the plan stage needs either 'hour' or 'time'");
    if (time) {
      auto instant = parse_iso8601_us(*time);
      if (!instant.ok()) {
        return invalid_event(
            fmt::format("'time' '{}' is not an ISO-8601 instant: {}", *time, instant.error().message));
      }
      event.hour = HourWindow::last_complete_hour(*instant);
      event.skip_complete = true;
    }
  }
  if (event.stage == Stage::kPlan) {
    ES_ASSIGN_OR_RETURN(auto workers, int_member(object, "workers", 1, 10000));
    event.workers = static_cast<int>(workers);
    ES_ASSIGN_OR_RETURN(auto run_id, string_member(object, "run_id"));
    if (run_id) event.run_id = std::string(*run_id);
  }
  if (hour) {
    ES_ASSIGN_OR_RETURN(event.hour, parse_hour_member("hour", *hour));
  } else if (event.stage != Stage::kPlan && event.stage != Stage::kCatchUp) {
    return invalid_event(fmt::format("the {} stage needs 'hour'", *stage));
  }
  if (event.stage == Stage::kWork) {
    ES_ASSIGN_OR_RETURN(auto unit, int_member(object, "unit", 0, 9999));
    event.unit = static_cast<int>(unit);
  }
  if (event.stage == Stage::kMerge) {
    ES_ASSIGN_OR_RETURN(auto client, string_member(object, "client"));
    if (!client || client->empty()) return invalid_event("the merge stage needs 'client'");
    event.client = std::string(*client);
  }
  return std::optional<StageEvent>(std::move(event));
}

Result<LambdaEvent> parse_event(std::string_view payload) {
  auto doc = parse_payload(payload);
  if (!doc.ok()) {
    return invalid_event(
        fmt::format("the payload is not JSON ({}); {}", json::not_json_reason(doc.error()), kAccepted));
  }
  const json::Value& object = *doc;
  if (!object.is_object()) {
    return invalid_event(fmt::format("the payload is not a JSON object; {}", kAccepted));
  }
  const bool direct = object.has("hour") || object.has("from") || object.has("to");
  if (direct) return parse_direct(object);
  if (object.has("detail-type") || object.has("source")) return parse_scheduled(object);
  return invalid_event(fmt::format("the payload names no hour; {}", kAccepted));
}

Result<HourPlan> plan_hours(const LambdaEvent& event, int catch_up_hours, std::int64_t now_us) {
  if (event.last.end_us() > now_us) {
    return invalid_event(fmt::format("hour {} has not ended yet (now {}); only complete hours are exported",
                                     event.last.label(), format_iso8601_us(now_us)));
  }
  HourPlan plan;
  for (HourWindow w = event.first; w <= event.last; w = w.next()) plan.required.push_back(w);
  if (event.kind == EventKind::kScheduled) {
    for (int i = catch_up_hours; i >= 1; --i) {
      plan.catch_up.push_back(HourWindow{event.first.start_us - i * kMicrosPerHour});
    }
  }
  return plan;
}

}  // namespace es::lambda
