#include "lambda/handler.h"

#include <algorithm>

#include <fmt/format.h>

#include "aws/stepfunctions_client.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/manifest.h"
#include "export/hour_lease.h"
#include "export/hours.h"
#include "export/scale_out.h"
#include "export/status_publish.h"

namespace es::lambda {
namespace {

std::string_view kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kScheduled:
      return "scheduled";
    case EventKind::kRange:
      return "range";
    default:
      return "hour";
  }
}

/// The end of every invocation that ran hours: the summary's duration and peak RSS, the metrics, and
/// the response (an error carrying the summary when an hour failed or events were undeliverable).
Result<std::string> respond(exporter::RunSummary& summary, const std::vector<HourWindow>& not_done,
                            std::int64_t started, const InvocationRequest& request, HandlerContext& context) {
  const std::int64_t finished = context.now_us();
  summary.duration_ms = (finished - started) / 1000;
  if (context.peak_rss_bytes) summary.peak_rss_bytes = context.peak_rss_bytes();
  if (context.metrics != nullptr) {
    const Deadline::CleanupScope cleanup;  // the metrics of a stopped run still go out
    exporter::MetricsContext metrics;
    metrics.timestamp_ms = finished / 1000;
    metrics.function_name = context.function_name;
    metrics.request_id = request.request_id;
    // A metrics failure is logged by the publisher; it does not fail the export.
    static_cast<void>(context.metrics->publish(summary, metrics, context.emf_out));
  }
  std::string body = render_lambda_summary(summary, not_done);
  if (summary.any_failed() || summary.events_undeliverable() > 0) {
    Error e;
    e.kind = ErrorKind::kServiceError;
    e.operation = "lambda.handle";
    e.code = std::string(summary.any_failed() ? kHourFailed : kUndeliverable);
    e.message = std::move(body);
    return e;
  }
  return body;
}

/// After a scheduled run's hours: the status report of the last 7 days into the ops bucket. Never fails
/// the invocation: a report not written is logged and counted (the ReportsFailed metric).
void publish_report(exporter::RunSummary& summary, std::int64_t deadline_us, HandlerContext& context) {
  const std::int64_t now = context.now_us();
  // The hours came first: the report only takes the time they left.
  if (deadline_us != 0 && deadline_us - now < kReportBudgetUs) {
    log::warn("lambda.report_not_published", {{"time_left_ms", (deadline_us - now) / 1000},
                                              {"reason", "too little time left before the deadline"}});
    ++summary.reports_failed;
    return;
  }
  const exporter::Exporter& exporter = *context.exporter;
  auto published = exporter::publish_last_7_days(exporter.config(), exporter.ports(), now);
  if (!published.ok()) {
    log::error("lambda.report_not_published", {{"error", published.error().to_string()}});
    ++summary.reports_failed;
    return;
  }
  log::info("lambda.report_published",
            {{"html", fmt::format("s3://{}/{}", exporter.config().ops_bucket, exporter::kLast7DaysHtmlKey)},
             {"json", fmt::format("s3://{}/{}", exporter.config().ops_bucket, exporter::kLast7DaysJsonKey)},
             {"from", published->from.label()},
             {"to", published->to.label()},
             {"status_exit_code", exporter::status_exit_code(*published)}});
}

/// Holds the invocation's deadline in context.deadline while it lives: work stops at the deadline
/// less its margin, clean-up a quarter of the margin before it.
class InvocationDeadline {
 public:
  InvocationDeadline(HandlerContext& context, std::int64_t deadline_us, std::int64_t now_us)
      : deadline_(context.deadline.get()) {
    if (deadline_ == nullptr || deadline_us == 0) return;
    const std::int64_t margin = deadline_margin_us(deadline_us - now_us);
    deadline_->set(deadline_us - margin, deadline_us - margin / 4);
  }
  ~InvocationDeadline() {
    if (deadline_ != nullptr) deadline_->clear();
  }
  InvocationDeadline(const InvocationDeadline&) = delete;
  InvocationDeadline& operator=(const InvocationDeadline&) = delete;

 private:
  Deadline* deadline_;
};

std::string hour_input(const HourWindow& w) {
  std::string input;
  json::Writer jw(input);
  jw.begin_object();
  jw.key("hour").value(w.label());
  jw.end_object();
  return input;
}

/// An hour the deadline stopped: handed to the state machine (handed_off_to set), or left stopped with
/// why in its error, which fails the invocation.
void hand_off(exporter::HourReport& hour, HandlerContext& context) {
  const Deadline::CleanupScope cleanup;
  const std::string name = hand_off_execution_name(hour.window);
  if (!context.start_execution) {
    hour.error +=
        "; not handed off: the function has no state machine (EAGLESENSE_STATE_MACHINE_ARN); the "
        "catch-up repeats the hour, which needs a longer timeout or scaling out (ScaleOutWorkers)";
    log::error("lambda.hour_stopped", {{"hour", hour.window.label()}, {"error", hour.error}});
    return;
  }
  auto started = context.start_execution(name, hour_input(hour.window));
  if (started.ok()) {
    hour.handed_off_to = std::move(*started);
    log::info("lambda.hour_handed_off", {{"hour", hour.window.label()}, {"execution", hour.handed_off_to}});
    return;
  }
  if (started.error().code == aws::kExecutionAlreadyExists) {
    hour.error += fmt::format(
        "; not handed off: an execution named {} exists already (an earlier hand-off of this hour, now "
        "finished, since its lease is free): Step Functions refuses a second; see that execution, and "
        "run the hour by hand if it failed",
        name);
  } else {
    hour.error += "; not handed off: " + started.error().to_string();
  }
  log::error("lambda.hand_off_failed", {{"hour", hour.window.label()}, {"error", hour.error}});
}

/// The catch-up of the scheduled state-machine path: each of the catch-up hours before event.hour
/// that has no manifest and no live lease is handed off as its own execution.
Result<std::string> handle_catch_up(const StageEvent& event, HandlerContext& context) {
  if (!context.start_execution) {
    Error e = Error::invalid_argument(
        "EAGLESENSE_STATE_MACHINE_ARN",
        "the catch-up stage hands hours to the state machine, and the function has none configured");
    e.code = std::string(kInvalidEvent);
    return e;
  }
  exporter::Exporter& exporter = *context.exporter;
  ES_ASSIGN_OR_RETURN(std::unique_ptr<exporter::ObjectStore> store, exporter.ports().make_store());
  const std::int64_t now = context.now_us();
  std::string out;
  json::Writer jw(out);
  jw.begin_object();
  jw.key("hour").value(event.hour.label());
  jw.key("catch_up_hours").value(context.catch_up_hours);
  std::vector<std::pair<HourWindow, std::string>> handed_off;
  std::vector<HourWindow> complete;
  std::vector<HourWindow> leased;
  std::vector<HourWindow> already;
  std::vector<std::pair<HourWindow, std::string>> errors;
  // The same catch-up hours a scheduled invocation of the single function would recheck.
  LambdaEvent scheduled;
  scheduled.kind = EventKind::kScheduled;
  scheduled.first = scheduled.last = event.hour;
  ES_ASSIGN_OR_RETURN(const HourPlan plan, plan_hours(scheduled, context.catch_up_hours, now));
  for (const HourWindow& w : plan.catch_up) {
    auto done = exporter.hour_complete(w);
    if (!done.ok()) {
      log::error("lambda.hand_off_failed", {{"hour", w.label()}, {"error", done.error().to_string()}});
      errors.emplace_back(w, done.error().to_string());
      continue;
    }
    if (*done) {
      complete.push_back(w);
      continue;
    }
    // A lease that cannot be read may be a live run's: the hour is not handed off on a guess.
    auto lease = exporter::read_lease(*store, exporter.config().ops_bucket, w);
    if (!lease.ok()) {
      log::error("lambda.hand_off_failed", {{"hour", w.label()}, {"error", lease.error().to_string()}});
      errors.emplace_back(w, "its lease could not be read: " + lease.error().to_string());
      continue;
    }
    if (*lease && (*lease)->expires_us > now) {
      log::info("lambda.catch_up_leased", {{"hour", w.label()}, {"holder_run_id", (*lease)->run_id}});
      leased.push_back(w);
      continue;
    }
    auto started = context.start_execution(hand_off_execution_name(w), hour_input(w));
    if (started.ok()) {
      log::info("lambda.hour_handed_off",
                {{"hour", w.label()}, {"execution", *started}, {"reason", "catch-up"}});
      handed_off.emplace_back(w, std::move(*started));
    } else if (started.error().code == aws::kExecutionAlreadyExists) {
      log::warn("lambda.catch_up_handed_off_before",
                {{"hour", w.label()},
                 {"execution", hand_off_execution_name(w)},
                 {"message", "the hour has no manifest and was handed off before: see that execution"}});
      already.push_back(w);
    } else {
      log::error("lambda.hand_off_failed", {{"hour", w.label()}, {"error", started.error().to_string()}});
      errors.emplace_back(w, started.error().to_string());
    }
  }
  jw.key("hours_handed_off").begin_array();
  for (const auto& [w, arn] : handed_off) {
    jw.begin_object();
    jw.key("hour").value(w.label());
    jw.key("execution").value(arn);
    jw.end_object();
  }
  jw.end_array();
  const auto labels = [&jw](std::string_view key, const std::vector<HourWindow>& hours) {
    jw.key(key).begin_array();
    for (const HourWindow& w : hours) jw.value(w.label());
    jw.end_array();
  };
  labels("hours_complete", complete);
  labels("hours_leased", leased);
  labels("hours_handed_off_before", already);
  jw.key("errors").begin_array();
  for (const auto& [w, message] : errors) {
    jw.begin_object();
    jw.key("hour").value(w.label());
    jw.key("error").value(message);
    jw.end_object();
  }
  jw.end_array();
  jw.end_object();
  if (!errors.empty()) {
    Error e;
    e.kind = ErrorKind::kServiceError;
    e.operation = "lambda.catch_up";
    e.code = std::string(kHourFailed);
    e.message = std::move(out);
    return e;
  }
  return out;
}

/// A stage's failure as the function's error: InvalidEvent and StageNotReady keep their errorType,
/// anything else is HourFailed (the state machine retries it, then fails the execution).
Error stage_error(Error e) {
  if (e.code == kInvalidEvent || e.code == exporter::kStageNotReady) return e;
  Error wrapped;
  wrapped.kind = e.kind;
  wrapped.operation = "lambda.stage";
  wrapped.code = std::string(kHourFailed);
  wrapped.message = e.to_string();
  return wrapped;
}

Result<std::string> handle_stage(const StageEvent& event, const InvocationRequest& request,
                                 HandlerContext& context) {
  const std::int64_t started = context.now_us();
  const InvocationDeadline deadline(context, request.deadline_ms * 1000, started);
  if (event.stage == Stage::kCatchUp) {
    log::info("lambda.stage",
              {{"request_id", request.request_id}, {"stage", "catch-up"}, {"hour", event.hour.label()}});
    return handle_catch_up(event, context);
  }
  exporter::Exporter& exporter = *context.exporter;
  // The plan takes the hour's lease for the whole execution (its name), finish gives it back.
  exporter::ScaleOut stages(exporter, event.run_id.empty() ? request.request_id : event.run_id);
  const HourWindow& w = event.hour;
  log::info("lambda.stage", {{"request_id", request.request_id}, {"hour", w.label()}});
  switch (event.stage) {
    case Stage::kPlan: {
      if (w.end_us() > started) {
        Error e = Error::invalid_argument("event", fmt::format("hour {} has not ended yet", w.label()));
        e.code = std::string(kInvalidEvent);
        return e;
      }
      auto planned = stages.plan(w, event.workers, event.skip_complete);
      if (!planned.ok()) return stage_error(std::move(planned).error());
      return exporter::render_plan_output(*planned);
    }
    case Stage::kWork: {
      auto done = stages.work(w, event.unit);
      if (!done.ok()) return stage_error(std::move(done).error());
      std::string out;
      json::Writer jw(out);
      jw.begin_object();
      jw.key("hour").value(w.label());
      jw.key("unit").value(event.unit);
      jw.key("events_read").value(done->events_read);
      jw.key("clients").value(static_cast<std::uint64_t>(done->runs.size()));
      jw.key("events_rejected").value(done->rejected);
      jw.end_object();
      return out;
    }
    case Stage::kListClients: {
      auto clients = stages.list_clients(w);
      if (!clients.ok()) return stage_error(std::move(clients).error());
      return exporter::render_clients_output(w, clients->size(), exporter.config().ops_bucket);
    }
    case Stage::kMerge: {
      // An undeliverable client is not the merge's failure: its copy is kept, finish reports it.
      auto merged = stages.merge(w, event.client);
      if (!merged.ok()) return stage_error(std::move(merged).error());
      return render_manifest_object(merged->object);
    }
    case Stage::kFinish:
    case Stage::kCatchUp:
      break;
  }
  exporter::RunSummary summary;
  auto report = stages.finish(w);
  if (!report.ok()) {
    if (report.error().code == exporter::kStageNotReady) return std::move(report).error();
    summary.hours.push_back(exporter::HourReport::failed(w, report.error()));
  } else {
    summary.hours.push_back(std::move(*report));
  }
  return respond(summary, {}, started, request, context);
}

}  // namespace

std::optional<std::string> account_of_function_arn(std::string_view arn) {
  // arn:partition:lambda:region:account:function:name[:qualifier]
  std::vector<std::string_view> fields;
  while (fields.size() < 6) {
    const auto colon = arn.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    fields.push_back(arn.substr(0, colon));
    arn.remove_prefix(colon + 1);
  }
  const std::string_view account = fields[4];
  const bool digits = account.size() == 12 && std::all_of(account.begin(), account.end(),
                                                          [](char c) { return c >= '0' && c <= '9'; });
  if (fields[0] != "arn" || fields[2] != "lambda" || fields[5] != "function" || !digits || arn.empty()) {
    return std::nullopt;
  }
  return std::string(account);
}

std::int64_t deadline_margin_us(std::int64_t time_left_us) {
  return std::clamp<std::int64_t>(time_left_us / 4, 0, 10 * kMicrosPerSecond);
}

std::string hand_off_execution_name(const HourWindow& window) {
  return "hour-" + window.label();
}

std::optional<std::uint64_t> default_memory_budget_mb(const std::optional<std::string>& function_mb) {
  if (!function_mb || function_mb->empty() || function_mb->size() > 6) return std::nullopt;
  std::uint64_t mb = 0;
  for (char c : *function_mb) {
    if (c < '0' || c > '9') return std::nullopt;
    mb = mb * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (mb < 128) return std::nullopt;
  return mb * 3 / 4;
}

bool enough_time_for_hour(std::int64_t now_us, std::int64_t deadline_us, std::int64_t budget_us,
                          std::optional<std::int64_t> last_hour_us) {
  if (deadline_us == 0) return true;
  std::int64_t needed = budget_us;
  if (last_hour_us) needed = std::max(needed, *last_hour_us + *last_hour_us / 2);
  return deadline_us - now_us >= needed;
}

std::string render_lambda_summary(const exporter::RunSummary& summary,
                                  const std::vector<HourWindow>& not_done) {
  std::string out = exporter::render_summary(summary);
  const auto close = out.rfind('}');
  std::string extra;
  json::Writer w(extra);
  w.begin_array();
  for (const exporter::HourReport& h : summary.hours) {
    if (h.status != exporter::HourStatus::kStopped) continue;
    w.begin_object();
    w.key("hour").value(h.window.label());
    w.key("reason").value("deadline");
    if (!h.handed_off_to.empty()) w.key("handed_off_to").value(h.handed_off_to);
    w.end_object();
  }
  for (const HourWindow& h : not_done) {
    w.begin_object();
    w.key("hour").value(h.label());
    w.key("reason").value("no_time");
    w.end_object();
  }
  w.end_array();
  out.insert(close, ",\"hours_not_done\":" + extra);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Result<std::string> handle(const InvocationRequest& request, HandlerContext& context) {
  ES_ASSIGN_OR_RETURN(const std::optional<StageEvent> stage, parse_stage_event(request.payload));
  if (stage) return handle_stage(*stage, request, context);
  const std::int64_t started = context.now_us();
  ES_ASSIGN_OR_RETURN(const LambdaEvent event, parse_event(request.payload));
  ES_ASSIGN_OR_RETURN(const HourPlan plan, plan_hours(event, context.catch_up_hours, started));
  const std::int64_t deadline_us = request.deadline_ms * 1000;
  // Every AWS call of the invocation ends by its deadline, less the margin its clean-up needs.
  const InvocationDeadline deadline(context, deadline_us, started);
  log::info("lambda.invocation",
            {{"request_id", request.request_id},
             {"event", kind_name(event.kind)},
             {"first_hour", event.first.label()},
             {"last_hour", event.last.label()},
             {"catch_up_hours", static_cast<std::uint64_t>(plan.catch_up.size())},
             {"time_left_ms", deadline_us == 0 ? std::int64_t{-1} : (deadline_us - started) / 1000}});

  exporter::Exporter& exporter = *context.exporter;
  std::vector<exporter::HourTask> tasks;
  for (const HourWindow& w : plan.required) tasks.push_back({w, false});
  for (const HourWindow& w : plan.catch_up) tasks.push_back({w, true});
  exporter::HoursOptions options;
  // The invocation holds the hours' leases: until its deadline and a minute more, unless
  // EAGLESENSE_LEASE_SECONDS says otherwise.
  options.run_id = request.request_id;
  options.lease_holder = fmt::format("lambda request {}", request.request_id);
  if (!exporter.config().lease_seconds && deadline_us > 0) {
    options.lease_ttl_us = std::max<std::int64_t>(deadline_us - started, 0) + 60 * kMicrosPerSecond;
  }
  options.may_start = [&](const HourWindow& w) {
    const std::int64_t now = context.now_us();
    if (enough_time_for_hour(now, deadline_us, context.hour_budget_us, context.last_hour_us)) return true;
    log::warn("lambda.hour_not_started", {{"hour", w.label()},
                                          {"time_left_ms", (deadline_us - now) / 1000},
                                          {"budget_ms", context.hour_budget_us / 1000},
                                          {"reason", "too little time left before the deadline"}});
    return false;
  };
  options.hour_done = [&](std::int64_t hour_us) { context.last_hour_us = hour_us; };
  auto [summary, not_done] = exporter::export_hours(exporter, tasks, options);
  for (exporter::HourReport& hour : summary.hours) {
    if (hour.status == exporter::HourStatus::kStopped) hand_off(hour, context);
  }
  if (event.kind == EventKind::kScheduled && context.report == ReportMode::kLast7Days) {
    publish_report(summary, deadline_us, context);
  }
  summary.run_id = request.request_id;
  return respond(summary, not_done, started, request, context);
}

}  // namespace es::lambda
