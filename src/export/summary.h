#pragma once
/// The run summary printed on stdout: totals over the hours and a per-hour breakdown.

#include <cstdint>
#include <string>
#include <vector>

#include "export/exporter.h"

namespace es::exporter {

struct RunSummary {
  std::vector<HourReport> hours;
  std::int64_t duration_ms = 0;
  std::uint64_t peak_rss_bytes = 0;
  bool dry_run = false;

  [[nodiscard]] std::uint64_t events_read() const;
  [[nodiscard]] std::uint64_t events_undeliverable() const;
  [[nodiscard]] bool any_failed() const;
};

/// One JSON object: events_read, events_delivered, events_rejected, events_undeliverable, clients,
/// objects, bytes, duration_ms, events_per_second, hours_* counts, and "hours": [...].
[[nodiscard]] std::string render_summary(const RunSummary& summary);

/// Process exit code: 0 all delivered or rejected, 3 something undeliverable, 1 an hour failed.
[[nodiscard]] int exit_code(const RunSummary& summary);

}  // namespace es::exporter
