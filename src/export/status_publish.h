#pragma once
/// The status report a scheduled Lambda run leaves in the ops bucket for people to open (through a
/// presigned URL): the last 7 days as one HTML page and one JSON document, rewritten after each run.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "core/time.h"
#include "export/ports.h"
#include "export/status.h"

namespace es::exporter {

inline constexpr std::string_view kLast7DaysHtmlKey = "reports/last-7-days.html";
inline constexpr std::string_view kLast7DaysJsonKey = "reports/last-7-days.json";

/// The 168 hours that end with the last complete hour at now_us, oldest first.
[[nodiscard]] std::vector<HourWindow> last_7_days(std::int64_t now_us);

/// Reads the status of the last 7 days from config's ops bucket and writes kLast7DaysHtmlKey and
/// kLast7DaysJsonKey there (with the run's server-side encryption). Returns the report written.
/// Error: a read or a write failed (the caller logs and counts it; it fails no hour).
[[nodiscard]] Result<StatusReport> publish_last_7_days(const ExportConfig& config, const Ports& ports,
                                                       std::int64_t now_us);

}  // namespace es::exporter
