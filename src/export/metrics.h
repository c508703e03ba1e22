#pragma once
/// A run's metrics: one CloudWatch Embedded Metric Format (EMF) record per run, and the same values
/// as PutMetricData datums. Namespace "EagleSense"; dimension FunctionName in Lambda, none otherwise.
///
/// EMF:
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
/// The record is one JSON object on one line with nothing before or after it: in Lambda it goes to
/// stdout (Lambda hands each line to CloudWatch Logs, which extracts the metrics without the
/// x-amzn-logs-format header); `eaglesense run` writes it among its log lines on stderr, since its
/// stdout holds the summary.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws/cloudwatch_client.h"
#include "core/config.h"
#include "core/env.h"
#include "export/summary.h"

namespace es::exporter {

inline constexpr std::string_view kMetricsNamespace = "EagleSense";

/// One metric of a run.
struct RunMetric {
  std::string_view name;  ///< "EventsRead", ...
  std::string_view unit;  ///< a CloudWatch unit: "Count", "Bytes", "Milliseconds", "Count/Second"
  double value = 0;
};

/// The run's metrics, always the same 14 names in the same order: EventsRead, EventsDelivered,
/// EventsRejected, EventsUndeliverable, Clients, Objects, Bytes, DurationMs, EventsPerSecond,
/// PeakRssBytes, Retries, ConsumedReadCapacity, HoursExported, HoursFailed. Totals over the hours;
/// Clients counts distinct clients with an object (delivered or undeliverable); HoursExported every
/// hour neither skipped nor failed (as render_summary counts them).
[[nodiscard]] std::vector<RunMetric> run_metrics(const RunSummary& summary);

/// What a record says besides the metrics.
struct MetricsContext {
  std::int64_t timestamp_ms = 0;  ///< _aws.Timestamp: milliseconds since the epoch
  std::string function_name;      ///< the FunctionName dimension; empty: no dimension
  std::string request_id;         ///< a RequestId member (not a dimension); empty: none
};

/// The EMF record: one line of JSON, without a trailing newline. Its _aws member holds Timestamp and
/// one MetricDirective (Namespace, Dimensions [["FunctionName"]] or [[]], Metrics [{Name, Unit}]);
/// each metric is a top-level number.
[[nodiscard]] std::string render_emf(const RunSummary& summary, const MetricsContext& context);

/// The same metrics as PutMetricData datums (with the FunctionName dimension when set).
[[nodiscard]] std::vector<aws::MetricDatum> metric_data(const RunSummary& summary,
                                                        const MetricsContext& context);

/// Emits a run's metrics as the mode says. Made once (the CloudWatch client and its connection are
/// reused by every later run, as in warm Lambda invocations); not thread-safe.
class MetricsPublisher {
 public:
  /// Builds the CloudWatch client for kCloudWatch (endpoint checked, no network call); nothing for
  /// the other modes.
  [[nodiscard]] static Result<std::unique_ptr<MetricsPublisher>> make(MetricsMode mode, const EnvLookup& env,
                                                                      const ExportConfig& config);

  /// Writes the EMF record as one line to out and flushes it (modes emf and cloudwatch), then sends
  /// the metrics with PutMetricData (cloudwatch). A failed PutMetricData is logged and returned;
  /// callers do not fail a run for it.
  [[nodiscard]] Status publish(const RunSummary& summary, const MetricsContext& context, std::FILE* out);

  [[nodiscard]] MetricsMode mode() const { return mode_; }

 private:
  MetricsPublisher(MetricsMode mode, std::unique_ptr<aws::CloudWatchClient> client)
      : mode_(mode), client_(std::move(client)) {}
  MetricsMode mode_;
  std::unique_ptr<aws::CloudWatchClient> client_;
};

}  // namespace es::exporter
