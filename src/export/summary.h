#pragma once
/// The run summary printed on stdout: totals over the hours and a per-hour breakdown.

#include <cstdint>
#include <string>
#include <vector>

#include "export/exporter.h"

namespace es::exporter {

/// The figures of a run, added up over its hours.
struct RunTotals : EventCounts {
  std::uint64_t clients = 0;  ///< distinct clients over the hours
  std::uint64_t objects = 0;
  std::uint64_t bytes = 0;
  std::uint64_t items_scanned = 0;
  double consumed_capacity = 0;
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t throttles = 0;
  std::uint64_t source_shrank = 0;  ///< clients whose object was left as it was (their events shrank)
  std::uint64_t redelivered = 0;    ///< clients delivered from their undeliverable copies
  int hours_exported = 0;  ///< every hour neither skipped, leased nor failed (undeliverable and dry runs too)
  int hours_skipped = 0;
  int hours_leased = 0;  ///< left to the run holding their lease
  int hours_failed = 0;
  int hours_stopped = 0;  ///< stopped by the deadline (handed off, or failed when they could not be)
};

struct RunSummary {
  std::string run_id;  ///< the run's id (core/run_id.h), which holds its hours' leases; "" when none
  std::vector<HourReport> hours;
  std::int64_t duration_ms = 0;
  std::uint64_t peak_rss_bytes = 0;
  bool dry_run = false;
  int reports_failed = 0;  ///< Lambda: status reports a scheduled run could not publish

  [[nodiscard]] std::uint64_t events_read() const;
  [[nodiscard]] std::uint64_t events_undeliverable() const;
  [[nodiscard]] bool any_failed() const;
  [[nodiscard]] RunTotals totals() const;
};

/// One JSON object: events_read, events_delivered, events_rejected, events_undeliverable, clients,
/// objects, bytes, duration_ms, events_per_second, hours_* counts, and "hours": [...].
[[nodiscard]] std::string render_summary(const RunSummary& summary);

/// Process exit code: 0 all delivered or rejected, 3 something undeliverable, 1 an hour failed or was
/// stopped by the deadline without being handed off. A leased hour is another run's to report (its exit
/// code, its manifest) and changes nothing here.
[[nodiscard]] int exit_code(const RunSummary& summary);

}  // namespace es::exporter
