#include "export/metrics.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/json_writer.h"
#include "core/log.h"

namespace es::exporter {

std::vector<RunMetric> run_metrics(const RunSummary& s) {
  const RunTotals t = s.totals();
  const auto count = [](auto n) { return static_cast<double>(n); };
  // As render_summary: a run shorter than a millisecond counts as one.
  const double seconds = static_cast<double>(std::max<std::int64_t>(s.duration_ms, 1)) / 1000.0;
  return {
      {"EventsRead", "Count", count(t.events_read)},
      {"EventsDelivered", "Count", count(t.events_delivered)},
      {"EventsRejected", "Count", count(t.events_rejected)},
      {"EventsUndeliverable", "Count", count(t.events_undeliverable)},
      {"Clients", "Count", count(t.clients)},
      {"Objects", "Count", count(t.objects)},
      {"Bytes", "Bytes", count(t.bytes)},
      {"DurationMs", "Milliseconds", count(s.duration_ms)},
      {"EventsPerSecond", "Count/Second", std::floor(count(t.events_read) / seconds)},
      {"PeakRssBytes", "Bytes", count(s.peak_rss_bytes)},
      {"Retries", "Count", count(t.retries)},
      {"ConsumedReadCapacity", "Count", t.consumed_capacity},
      {"HoursExported", "Count", count(t.hours_exported)},
      {"HoursFailed", "Count", count(t.hours_failed)},
      {"HoursStopped", "Count", count(t.hours_stopped)},
      {"SourceShrank", "Count", count(t.source_shrank)},
      {"Redelivered", "Count", count(t.redelivered)},
      {"ReportsFailed", "Count", count(s.reports_failed)},
  };
}

std::string render_emf(const RunSummary& summary, const MetricsContext& context) {
  const std::vector<RunMetric> metrics = run_metrics(summary);
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("_aws").begin_object();
  w.key("Timestamp").value(context.timestamp_ms);
  w.key("CloudWatchMetrics").begin_array().begin_object();
  w.key("Namespace").value(kMetricsNamespace);
  w.key("Dimensions").begin_array().begin_array();
  if (!context.function_name.empty()) w.value("FunctionName");
  w.end_array().end_array();
  w.key("Metrics").begin_array();
  for (const RunMetric& m : metrics)
    w.begin_object().key("Name").value(m.name).key("Unit").value(m.unit).end_object();
  w.end_array();
  w.end_object().end_array();
  w.end_object();
  if (!context.function_name.empty()) w.key("FunctionName").value(context.function_name);
  if (!context.request_id.empty()) w.key("RequestId").value(context.request_id);
  w.key("Version").value(EAGLESENSE_VERSION);
  for (const RunMetric& m : metrics) w.key(m.name).value(m.value);
  w.end_object();
  return out;
}

std::vector<aws::MetricDatum> metric_data(const RunSummary& summary, const MetricsContext& context) {
  std::vector<aws::MetricDatum> data;
  for (const RunMetric& m : run_metrics(summary)) {
    aws::MetricDatum d;
    d.name = std::string(m.name);
    d.unit = std::string(m.unit);
    d.value = m.value;
    d.timestamp_ms = context.timestamp_ms;
    if (!context.function_name.empty()) d.dimensions.emplace_back("FunctionName", context.function_name);
    data.push_back(std::move(d));
  }
  return data;
}

Result<std::unique_ptr<MetricsPublisher>> MetricsPublisher::make(MetricsMode mode, const EnvLookup& env,
                                                                 const ExportConfig& config) {
  std::unique_ptr<aws::CloudWatchClient> client;
  if (mode == MetricsMode::kCloudWatch) {
    aws::CloudWatchOptions options;
    options.max_attempts = std::min(config.max_attempts, 3);  // metrics must not hold a run up
    options.insecure_tls = config.insecure_tls;
    options.ca_bundle = config.ca_bundle;
    auto made = aws::make_cloudwatch_client(env, options);
    if (!made.ok()) return Error(made.error()).with_context("config", "EAGLESENSE_METRICS");
    client = std::move(*made);
  }
  return std::unique_ptr<MetricsPublisher>(new MetricsPublisher(mode, std::move(client)));
}

Status MetricsPublisher::publish(const RunSummary& summary, const MetricsContext& context, std::FILE* out) {
  if (mode_ == MetricsMode::kNone) return ok_status();
  std::string line = render_emf(summary, context);
  line += '\n';
  // One write, flushed at once: a Lambda environment may be frozen right after the response.
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
  if (mode_ != MetricsMode::kCloudWatch || !client_) return ok_status();
  const std::vector<aws::MetricDatum> data = metric_data(summary, context);
  auto sent = client_->put_metric_data(kMetricsNamespace, data);
  if (!sent.ok()) {
    log::warn("metrics.put_failed", {{"error", sent.error().to_string()}});
    return std::move(sent).error();
  }
  log::debug("metrics.put", {{"values", data.size()}, {"calls", *sent}});
  return ok_status();
}

}  // namespace es::exporter
