#include "export/hours.h"

#include "core/log.h"

namespace es::exporter {

HoursOutcome export_hours(Exporter& exporter, const std::vector<HourTask>& tasks, const HourRunner& run,
                          const HoursOptions& options) {
  HoursOutcome out;
  bool started_one = false;
  for (const HourTask& task : tasks) {
    const HourWindow& w = task.window;
    if (task.skip_if_complete) {
      auto complete = exporter.hour_complete(w);
      if (!complete.ok()) {
        log::error("export.hour_failed", {{"hour", w.label()}, {"error", complete.error().to_string()}});
        out.summary.hours.push_back(HourReport::failed(w, complete.error()));
        continue;
      }
      if (*complete) {
        log::info("export.hour_skipped", {{"hour", w.label()}, {"reason", "manifest exists"}});
        out.summary.hours.push_back(HourReport::skipped(w));
        continue;
      }
    }
    if (started_one && options.may_start && !options.may_start(w)) {
      out.not_done.push_back(w);
      continue;
    }
    if (task.skip_if_complete) log::info("export.catch_up", {{"hour", w.label()}, {"reason", "no manifest"}});
    started_one = true;
    auto report = run(w);
    if (!report.ok()) {
      log::error("export.hour_failed", {{"hour", w.label()}, {"error", report.error().to_string()}});
      out.summary.hours.push_back(HourReport::failed(w, report.error()));
      continue;
    }
    out.summary.hours.push_back(std::move(*report));
  }
  return out;
}

}  // namespace es::exporter
