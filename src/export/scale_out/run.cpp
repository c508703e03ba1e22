#include "export/scale_out/run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include "core/guarded.h"
#include "core/log.h"

namespace es::exporter {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

/// fn(0) ... fn(n - 1) on at most limit threads; every call runs. The results, in order.
template <typename R>
std::vector<R> run_each(std::size_t n, std::size_t limit, const std::function<R(std::size_t)>& fn) {
  std::vector<std::optional<R>> results(n);
  const std::size_t threads = std::min(std::max<std::size_t>(limit, 1), n);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) results[i].emplace(fn(i));
  } else {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (std::size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        // An exception in a stage becomes its result's error, not std::terminate.
        for (std::size_t i = next++; i < n; i = next++)
          results[i].emplace(guarded("a scale-out stage", [&] { return fn(i); }));
      });
    }
    for (std::thread& t : pool) t.join();
  }
  std::vector<R> out;
  out.reserve(n);
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

}  // namespace

Result<HourReport> run_scaled_out_hour(StageRunner& runner, const HourWindow& window, int workers,
                                       bool skip_complete) {
  const auto started = Clock::now();
  ES_ASSIGN_OR_RETURN(const PlannedHour plan, runner.plan(window, workers, skip_complete));
  if (plan.complete) return HourReport::skipped(window);
  if (plan.leased) return HourReport::leased(window, plan.leased_by, plan.leased_until_us);
  const std::int64_t plan_ms = ms_since(started);

  // Work: every unit, as many at once as the runner takes (the Map state's MaxConcurrency).
  auto t = Clock::now();
  const auto worked =
      run_each<Result<WorkedUnit>>(static_cast<std::size_t>(std::max(plan.units, 0)), runner.max_parallel(),
                                   [&](std::size_t u) { return runner.work(window, static_cast<int>(u)); });
  for (const auto& w : worked) {
    if (!w.ok()) return w.error();
  }
  const std::int64_t work_ms = ms_since(t);

  // Merge: one per client, at most `workers` at a time. An undeliverable client is a result.
  t = Clock::now();
  ES_ASSIGN_OR_RETURN(const std::vector<std::string> clients, runner.list_clients(window));
  const std::size_t merge_limit =
      std::min(static_cast<std::size_t>(std::max(workers, 1)), runner.max_parallel());
  auto merged = run_each<Result<ManifestObject>>(
      clients.size(), merge_limit, [&](std::size_t i) { return runner.merge(window, clients[i]); });
  std::vector<ManifestObject> objects;
  objects.reserve(merged.size());
  for (auto& m : merged) {
    if (!m.ok()) return std::move(m).error();
    objects.push_back(std::move(*m));
  }
  const std::int64_t merge_ms = ms_since(t);

  t = Clock::now();
  ES_ASSIGN_OR_RETURN(HourReport report, runner.finish(window));
  const std::int64_t finish_ms = ms_since(t);
  report.window = window;
  report.objects_detail = std::move(objects);
  report.duration_ms = ms_since(started);
  log::info("scale_out.hour_done", {{"hour", window.label()},
                                    {"workers", static_cast<std::int64_t>(plan.units)},
                                    {"clients", static_cast<std::uint64_t>(clients.size())},
                                    {"plan_ms", plan_ms},
                                    {"work_ms", work_ms},
                                    {"merge_ms", merge_ms},
                                    {"finish_ms", finish_ms},
                                    {"duration_ms", report.duration_ms}});
  return report;
}

Result<PlannedHour> InProcessStageRunner::plan(const HourWindow& window, int workers, bool skip_complete) {
  ES_ASSIGN_OR_RETURN(const PlanResult planned, stages_.plan(window, workers, skip_complete));
  PlannedHour out;
  out.complete = planned.complete;
  out.leased = planned.leased;
  out.leased_by = planned.leased_by;
  out.leased_until_us = planned.leased_until_us;
  out.units = planned.complete || planned.leased ? 0 : planned.plan.units;
  return out;
}

Result<WorkedUnit> InProcessStageRunner::work(const HourWindow& window, int unit) {
  ES_ASSIGN_OR_RETURN(const UnitManifest m, stages_.work(window, unit));
  return WorkedUnit{m.events_read, m.rejected, static_cast<std::uint64_t>(m.runs.size())};
}

Result<std::vector<std::string>> InProcessStageRunner::list_clients(const HourWindow& window) {
  return stages_.list_clients(window);
}

Result<ManifestObject> InProcessStageRunner::merge(const HourWindow& window, const std::string& client) {
  ES_ASSIGN_OR_RETURN(MergeResult merged, stages_.merge(window, client));
  return std::move(merged.object);
}

Result<HourReport> InProcessStageRunner::finish(const HourWindow& window) {
  return stages_.finish(window);
}

}  // namespace es::exporter
