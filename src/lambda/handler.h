#pragma once
/// The Lambda handler: a plain function from one invocation to its result. The runtime loop
/// (runtime_loop.h) owns all Runtime API I/O; everything the handler needs is made once at init and
/// lives in a HandlerContext reused by every warm invocation.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.h"
#include "core/result.h"
#include "core/time.h"
#include "export/exporter.h"
#include "export/metrics.h"
#include "export/summary.h"
#include "lambda/event.h"
#include "lambda/runtime_api.h"

namespace es::lambda {

/// errorType of an invocation whose run left events undeliverable (kept in the ops bucket).
inline constexpr std::string_view kUndeliverable = "Undeliverable";
/// Time a scheduled run must have left before its deadline to publish the status report (a week of
/// manifests read, two objects written); with less, the report is skipped and counted as failed.
inline constexpr std::int64_t kReportBudgetUs = 20 * kMicrosPerSecond;
/// errorType of an invocation in which an hour failed (no manifest: the catch-up repeats it).
inline constexpr std::string_view kHourFailed = "HourFailed";

/// How long before the invocation's deadline its work stops, so that the clean-up after a stop fits
/// (aborted uploads, leases given back, the hand-off, the metrics): 10 s, or a quarter of the time
/// left when that is less. Clean-up calls may run until a quarter of the margin before the deadline.
/// Pure.
[[nodiscard]] std::int64_t deadline_margin_us(std::int64_t time_left_us);

/// "hour-2026-11-29T10": the name of the state machine execution an hour is handed off as. One name
/// per hour, so that Step Functions itself refuses a second hand-off of the same hour.
[[nodiscard]] std::string hand_off_execution_name(const HourWindow& window);

/// Whether one more hour may start: the time left before the deadline must be at least the larger
/// of budget_us and 1.5 times the last hour's duration (a run of big hours needs more than the
/// configured budget). deadline_us 0 means no deadline. Pure.
[[nodiscard]] bool enough_time_for_hour(std::int64_t now_us, std::int64_t deadline_us, std::int64_t budget_us,
                                        std::optional<std::int64_t> last_hour_us);

/// EAGLESENSE_MEMORY_MB for a function whose settings leave it unset: three quarters of the
/// function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, MB; the rest is the runtime's, the binary's and
/// the allocator's). nullopt when that is unset or not a whole number of at least 128.
[[nodiscard]] std::optional<std::uint64_t> default_memory_budget_mb(
    const std::optional<std::string>& function_mb);

/// The account of a Lambda function ARN ("arn:aws:lambda:us-east-1:123456789012:function:es[:alias]"):
/// the function's own account, the default expected owner of every bucket. nullopt when arn is not
/// a function ARN with a 12-digit account. Pure.
[[nodiscard]] std::optional<std::string> account_of_function_arn(std::string_view arn);

/// The summary JSON of render_summary with "hours_not_done" added: one {"hour", "reason"} per hour
/// not done, reason "no_time" for an hour not started (too little time left), "deadline" for an hour
/// the deadline stopped (summary's kStopped hours, with "handed_off_to" when handed off).
[[nodiscard]] std::string render_lambda_summary(const exporter::RunSummary& summary,
                                                const std::vector<HourWindow>& not_done);

/// What the handler keeps across invocations. Not thread-safe (Lambda runs one invocation at a time
/// per environment).
struct HandlerContext {
  exporter::Exporter* exporter = nullptr;                ///< required
  exporter::MetricsPublisher* metrics = nullptr;         ///< null: no metrics
  std::FILE* emf_out = stdout;                           ///< where EMF records go
  std::string function_name;                             ///< AWS_LAMBDA_FUNCTION_NAME (metric dimension)
  int catch_up_hours = 6;                                ///< EAGLESENSE_CATCH_UP_HOURS
  std::int64_t hour_budget_us = 120 * kMicrosPerSecond;  ///< EAGLESENSE_HOUR_BUDGET_SECONDS
  std::function<std::int64_t()> now_us;                  ///< wall clock, microseconds since the epoch
  std::function<std::uint64_t()> peak_rss_bytes;         ///< null: not reported
  /// EAGLESENSE_REPORT: what a scheduled run publishes after its hours (none unless the command sets it).
  ReportMode report = ReportMode::kNone;
  /// Duration of the last hour exported by this environment (feeds enough_time_for_hour).
  std::optional<std::int64_t> last_hour_us;
  /// The deadline every AWS call of the exporter sees (its ports were made with it): set from each
  /// invocation's deadline (less deadline_margin_us), cleared after it. Null: no call is cut short.
  std::shared_ptr<Deadline> deadline;
  /// Starts an execution of the scale-out state machine (EAGLESENSE_STATE_MACHINE_ARN) with a name and
  /// an input, and returns its ARN. Null: the stack has none, and an hour the deadline stops fails.
  std::function<Result<std::string>(std::string_view name, std::string_view input)> start_execution;
};

/// Handles one invocation: parses the event, exports its hours (the first one always; each later
/// one only with enough time left; catch-up hours rechecked against their manifests), every AWS call
/// ending by the deadline less its margin. An hour the deadline stops (kStopped: uploads aborted, lease
/// given back, no manifest) is handed to the state machine as hand_off_execution_name(hour) with
/// {"hour": H}, or, without one, fails the invocation (HourFailed). After a scheduled event
/// publishes the status report of the last 7 days (context.report; a failure is logged and counted in
/// the summary's reports_failed, never an error), emits the metrics and returns the summary
/// (render_lambda_summary). Errors, with Error::code as the errorType:
/// kInvalidEvent (nothing done), kHourFailed or kUndeliverable (the message is the summary JSON).
[[nodiscard]] Result<std::string> handle(const InvocationRequest& request, HandlerContext& context);

}  // namespace es::lambda
