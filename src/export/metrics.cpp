#include "export/metrics.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/json_writer.h"
#include "core/log.h"

namespace es::exporter {

std::vector<RunMetric> run_metrics(const RunSummary& s) {
  double read = 0;
  double delivered = 0;
  double rejected = 0;
  double undeliverable = 0;
  double objects = 0;
  double bytes = 0;
  double retries = 0;
  double capacity = 0;
  double exported = 0;
  double failed = 0;
  std::set<std::string_view> clients;
  for (const HourReport& h : s.hours) {
    read += static_cast<double>(h.events_read);
    delivered += static_cast<double>(h.events_delivered);
    rejected += static_cast<double>(h.events_rejected);
    undeliverable += static_cast<double>(h.events_undeliverable);
    objects += static_cast<double>(h.objects);
    bytes += static_cast<double>(h.bytes);
    retries += static_cast<double>(h.retries);
    capacity += h.consumed_capacity;
    for (const auto& o : h.objects_detail) clients.insert(o.client);
    if (h.status == "failed") {
      ++failed;
    } else if (h.status != "skipped") {
      ++exported;
    }
  }
  // As render_summary: a run shorter than a millisecond counts as one.
  const double seconds = static_cast<double>(std::max<std::int64_t>(s.duration_ms, 1)) / 1000.0;
  return {
      {"EventsRead", "Count", read},
      {"EventsDelivered", "Count", delivered},
      {"EventsRejected", "Count", rejected},
      {"EventsUndeliverable", "Count", undeliverable},
      {"Clients", "Count", static_cast<double>(clients.size())},
      {"Objects", "Count", objects},
      {"Bytes", "Bytes", bytes},
      {"DurationMs", "Milliseconds", static_cast<double>(s.duration_ms)},
      {"EventsPerSecond", "Count/Second", std::floor(read / seconds)},
      {"PeakRssBytes", "Bytes", static_cast<double>(s.peak_rss_bytes)},
      {"Retries", "Count", retries},
      {"ConsumedReadCapacity", "Count", capacity},
      {"HoursExported", "Count", exported},
      {"HoursFailed", "Count", failed},
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
