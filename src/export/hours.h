#pragma once
/// The hours of a run: which to skip, which may still start (the Lambda's deadline), each under its
/// lease (hour_lease.h: an hour another run holds is left to it, reported leased), and a failed hour
/// reported without stopping the others. `eaglesense run` and the Lambda handler read their hours with
/// one scan and recheck catch-up hours against their manifests' source digests (export_hours with no
/// runner); `run --workers` runs each hour through the scale-out stages (export_hours with a runner).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "export/exporter.h"
#include "export/summary.h"

namespace es::exporter {

/// An hour a run covers.
struct HourTask {
  HourWindow window;
  /// A catch-up hour. With the exporter's own reads, an hour that has a manifest is rechecked: re-exported
  /// when its source digest changed (late_events), its undeliverable clients retried (redelivery), and
  /// left alone when unchanged. Through a runner (scale-out), an hour that has a manifest is skipped.
  /// Not a catch-up hour: exported whatever exists (a manifest's next revision, manual_rerun).
  bool catch_up = false;
};

/// Runs one hour: through the scale-out stages.
using HourRunner = std::function<Result<HourReport>(const HourWindow&)>;

struct HoursOptions {
  /// Asked before each hour after the first one that started: false leaves that hour not done (the
  /// Lambda's deadline). Unset: every hour may start.
  std::function<bool(const HourWindow&)> may_start;
  /// Called with the time an hour took (the Lambda's estimate of the next one).
  std::function<void(std::int64_t hour_us)> hour_done;
  /// Called when a read starts, with what it reads ("2026-11-29T10" or "2026-11-29T00..2026-11-29T23")
  /// and its live counters; what it returns is held until the read ends (a progress line).
  std::function<std::shared_ptr<void>(const std::string& what, const ReadProgress& progress)> watch_read;
  /// The run id holding the hours' leases; empty: the exporter's (ExportOptions::run_id). Without a
  /// run id, and on a dry run, no lease is taken.
  std::string run_id;
  /// Who holds them, written in each lease; empty: this_process_holder() ("host H pid P").
  std::string lease_holder;
  /// How long each lease lasts; 0: EAGLESENSE_LEASE_SECONDS, else kDefaultLeaseSeconds.
  std::int64_t lease_ttl_us = 0;
};

struct HoursOutcome {
  RunSummary summary;  ///< one report per hour run, skipped or failed, in order
  /// Hours may_start refused, and catch-up hours with a manifest whose recheck the deadline stopped.
  std::vector<HourWindow> not_done;
};

/// Exports tasks with the exporter's own reads. Every hour's lease is taken first (an hour another run
/// holds is reported leased and not read), and its manifest looked up; then, in scan mode, one scan reads
/// every hour (its filter covers them all), and each hour is written in order, as a run of that hour alone
/// would write it. In query mode each hour is read by its own queries. An hour that fails is reported as
/// failed and the next goes on; a scan that fails fails every hour it was to read.
[[nodiscard]] HoursOutcome export_hours(Exporter& exporter, const std::vector<HourTask>& tasks,
                                        const HoursOptions& options = {});

/// Runs tasks in order with run, each hour under its lease. Whether a catch-up hour is complete is asked
/// first (one GET), so that not_done lists only hours that still need a run. An hour that fails (or whose
/// manifest cannot be looked up) is reported as failed, and the next hour goes on.
[[nodiscard]] HoursOutcome export_hours(Exporter& exporter, const std::vector<HourTask>& tasks,
                                        const HourRunner& run, const HoursOptions& options = {});

/// Whether the table holds what prior recorded: the same source digest, or, for a manifest written
/// before digests, the same number of events read.
[[nodiscard]] bool same_source(const Manifest& prior, const SourceDigest& now);

}  // namespace es::exporter
