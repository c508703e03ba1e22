#include "export/status_publish.h"

#include <fmt/format.h>

#include "export/put_options.h"
#include "export/status_report.h"

namespace es::exporter {

std::vector<HourWindow> last_7_days(std::int64_t now_us) {
  constexpr int kHours = 7 * 24;
  const HourWindow last = HourWindow::last_complete_hour(now_us);
  std::vector<HourWindow> hours;
  hours.reserve(kHours);
  for (int i = kHours - 1; i >= 0; --i) hours.push_back(HourWindow{last.start_us - i * kMicrosPerHour});
  return hours;
}

Result<StatusReport> publish_last_7_days(const ExportConfig& config, const Ports& ports,
                                         std::int64_t now_us) {
  StatusOptions options;
  options.concurrency = config.upload_concurrency;
  options.now_us = now_us;
  ES_ASSIGN_OR_RETURN(StatusReport report, read_status(last_7_days(now_us), config, ports, options));
  ES_ASSIGN_OR_RETURN(auto store, ports.make_store());
  // The JSON first: a program polling it never sees a page newer than its data.
  const struct {
    std::string_view key;
    std::string_view content_type;
    StatusFormat format;
  } documents[] = {
      {kLast7DaysJsonKey, "application/json", StatusFormat::kJson},
      {kLast7DaysHtmlKey, "text/html; charset=utf-8", StatusFormat::kHtml},
  };
  for (const auto& d : documents) {
    s3::PutOptions put = encrypted_put_options(config);
    put.content_type = std::string(d.content_type);
    auto written = store->put(config.ops_bucket, d.key, render_status(report, d.format), put);
    if (!written.ok()) {
      return std::move(written).error().with_context("report",
                                                     fmt::format("{}/{}", config.ops_bucket, d.key));
    }
  }
  return report;
}

}  // namespace es::exporter
