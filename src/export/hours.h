#pragma once
/// The hours of a run, one after the other: which to skip (catch-up hours that have a manifest), which
/// may still start (the Lambda's deadline), and a failed hour reported without stopping the others.
/// `eaglesense run`, `run --workers` and the Lambda handler all go through export_hours(); they differ
/// only in how one hour is run (HourRunner).

#include <functional>
#include <vector>

#include "core/time.h"
#include "export/exporter.h"
#include "export/summary.h"

namespace es::exporter {

/// An hour a run covers.
struct HourTask {
  HourWindow window;
  bool skip_if_complete = false;  ///< catch-up: an hour whose manifest exists is skipped, not redone
};

/// Runs one hour: in this process (Exporter::export_hour), or through the scale-out stages.
using HourRunner = std::function<Result<HourReport>(const HourWindow&)>;

struct HoursOptions {
  /// Asked before each hour after the first one that started: false leaves that hour not done (the
  /// Lambda's deadline). Unset: every hour may start.
  std::function<bool(const HourWindow&)> may_start;
};

struct HoursOutcome {
  RunSummary summary;                ///< one report per hour run, skipped or failed, in order
  std::vector<HourWindow> not_done;  ///< hours may_start refused
};

/// Runs tasks in order with run. Whether a catch-up hour is complete is asked first (one GET), so that
/// not_done lists only hours that still need a run. An hour that fails (or whose manifest cannot be
/// looked up) is reported as failed, and the next hour goes on.
[[nodiscard]] HoursOutcome export_hours(Exporter& exporter, const std::vector<HourTask>& tasks,
                                        const HourRunner& run, const HoursOptions& options = {});

}  // namespace es::exporter
