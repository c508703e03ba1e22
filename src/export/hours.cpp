#include "export/hours.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "core/log.h"
#include "export/hour_lease.h"

namespace es::exporter {
namespace {

/// The leases of a run's hours, through one store made when the first hour starts; none on a dry
/// run or without a run id.
class RunLeases {
 public:
  RunLeases(Exporter& exporter, const HoursOptions& options) : exporter_(exporter) {
    terms_.run_id = options.run_id.empty() ? exporter.options().run_id : options.run_id;
    terms_.holder = options.lease_holder.empty() ? this_process_holder() : options.lease_holder;
    const int seconds = exporter.config().lease_seconds.value_or(kDefaultLeaseSeconds);
    terms_.ttl_us = options.lease_ttl_us > 0 ? options.lease_ttl_us : seconds * kMicrosPerSecond;
    enabled_ = !terms_.run_id.empty() && !exporter.options().dry_run;
  }

  /// Takes w's lease. nullopt: no lease is needed (dry run, no run id); a lease not acquired: another
  /// run holds the hour (its report, leased, is in held).
  Result<std::optional<HourLease>> acquire(const HourWindow& w, HourReport& held) {
    if (!enabled_) return std::optional<HourLease>();
    if (!leases_) {
      ES_ASSIGN_OR_RETURN(store_, exporter_.ports().make_store());
      leases_.emplace(*store_, exporter_.config(), terms_, [this] { return exporter_.now_us(); });
    }
    ES_ASSIGN_OR_RETURN(HourLease lease, leases_->acquire(w));
    if (!lease.acquired) {
      log::info("export.hour_leased", {{"hour", w.label()},
                                       {"holder_run_id", lease.holder_run_id},
                                       {"holder", lease.holder},
                                       {"until", format_iso8601_us(lease.until_us)}});
      held = HourReport::leased(w, lease.holder_run_id, lease.until_us);
      count_requests(held);
    }
    return std::optional<HourLease>(std::move(lease));
  }

  /// Gives back a lease acquire() took (one that cannot be deleted expires).
  void release(const HourWindow& w, const std::optional<HourLease>& lease) {
    if (!lease || !lease->acquired || !leases_) return;
    if (Status released = leases_->release(w, *lease); !released.ok()) {
      log::warn("lease.not_released", {{"hour", w.label()}, {"error", released.error().to_string()}});
    }
  }

  /// Runs w under its lease: an hour another run holds is reported leased, not run; the lease is
  /// given back whatever became of the hour (one that cannot be deleted expires).
  Result<HourReport> run(const HourWindow& w, const HourRunner& run) {
    if (!enabled_) return run(w);
    if (!leases_) {
      ES_ASSIGN_OR_RETURN(store_, exporter_.ports().make_store());
      leases_.emplace(*store_, exporter_.config(), terms_, [this] { return exporter_.now_us(); });
    }
    ES_ASSIGN_OR_RETURN(const HourLease lease, leases_->acquire(w));
    if (!lease.acquired) {
      log::info("export.hour_leased", {{"hour", w.label()},
                                       {"holder_run_id", lease.holder_run_id},
                                       {"holder", lease.holder},
                                       {"until", format_iso8601_us(lease.until_us)}});
      HourReport leased = HourReport::leased(w, lease.holder_run_id, lease.until_us);
      count_requests(leased);
      return leased;
    }
    Result<HourReport> report = run(w);
    if (Status released = leases_->release(w, lease); !released.ok()) {
      log::warn("lease.not_released", {{"hour", w.label()}, {"error", released.error().to_string()}});
    }
    if (report.ok()) count_requests(*report);
    return report;
  }

  /// Adds the lease requests made since the last hour counted (the probe's too) to report's.
  void count_requests(HourReport& report) {
    if (!store_) return;
    const aws::CallStats total = store_->stats();
    report.requests += total.requests - counted_.requests;
    report.retries += total.retries - counted_.retries;
    report.throttles += total.throttles - counted_.throttles;
    counted_ = total;
  }

 private:
  Exporter& exporter_;
  LeaseTerms terms_;
  bool enabled_ = false;
  std::unique_ptr<ObjectStore> store_;
  std::optional<HourLeases> leases_;
  aws::CallStats counted_;  ///< the lease store's requests already added to an hour's report
};

/// An hour to read and then write.
struct PendingHour {
  HourTask task;
  std::optional<PriorManifest> prior;
  aws::CallStats lookup_calls;     ///< the manifest's lookup
  std::optional<HourLease> lease;  ///< held while the hour is read and written
};

/// The read figures of an hour's read on a report that did not write it (skipped, failed), so that the
/// run's totals still count what the scan cost.
void add_read_figures(HourReport& report, const ReadResult& read, const aws::CallStats& lookup) {
  report.requests += lookup.requests;
  report.retries += lookup.retries;
  report.throttles += lookup.throttles;
  report.items_scanned += read.items_scanned;
  report.out_of_window += read.out_of_window;
  report.consumed_capacity += read.consumed_capacity;
  report.requests += read.calls.requests;
  report.retries += read.calls.retries;
  report.throttles += read.calls.throttles;
}

/// The report of a catch-up hour whose source is as its manifest recorded and which has nothing left
/// to deliver: nothing is written.
HourReport unchanged(const PendingHour& hour, const ReadResult& read) {
  log::info("export.hour_skipped", {{"hour", hour.task.window.label()}, {"reason", "unchanged"}});
  HourReport report = HourReport::skipped(hour.task.window, "unchanged");
  report.revision = hour.prior->manifest.revision;
  add_read_figures(report, read, hour.lookup_calls);
  return report;
}

[[nodiscard]] bool nothing_to_do(const PendingHour& hour, const ReadResult& read) {
  return hour.task.catch_up && hour.prior && same_source(hour.prior->manifest, read.source) &&
         !hour.prior->manifest.has_undeliverable();
}

/// Writes one hour that has been read, as its task and prior revision say.
Result<HourReport> write_read_hour(Exporter& exporter, const PendingHour& hour, ReadResult read,
                                   std::int64_t started_us) {
  const HourWindow& w = hour.task.window;
  HourRevision revision;
  revision.lookup_calls = hour.lookup_calls;
  if (hour.prior) {
    revision.prior = hour.prior;
    revision.reason = RevisionReason::kManualRerun;
    if (hour.task.catch_up) {
      const Manifest& prior = hour.prior->manifest;
      if (same_source(prior, read.source)) {
        if (!prior.has_undeliverable()) return unchanged(hour, read);
        log::info("export.catch_up", {{"hour", w.label()}, {"reason", "undeliverable clients"}});
        ES_ASSIGN_OR_RETURN(HourReport report, exporter.redeliver(w, *hour.prior));
        add_read_figures(report, read, hour.lookup_calls);
        return report;
      }
      log::info("export.catch_up", {{"hour", w.label()},
                                    {"reason", "source changed"},
                                    {"events_before", prior.source.events},
                                    {"events_now", read.source.events}});
      revision.reason = RevisionReason::kLateEvents;
    }
  } else if (hour.task.catch_up) {
    log::info("export.catch_up", {{"hour", w.label()}, {"reason", "no manifest"}});
  }
  log::info("export.hour_started", {{"hour", w.label()},
                                    {"table", exporter.config().table},
                                    {"read_mode", to_string(exporter.config().read_mode)},
                                    {"revision", hour.prior ? hour.prior->manifest.revision + 1 : 1}});
  return exporter.write_hour(w, std::move(read), revision, started_us);
}

}  // namespace

bool same_source(const Manifest& prior, const SourceDigest& now) {
  if (prior.source.digest.empty()) return prior.events_read == now.events;
  return prior.source == now;
}

HoursOutcome export_hours(Exporter& exporter, const std::vector<HourTask>& tasks,
                          const HoursOptions& options) {
  HoursOutcome out;
  const bool dry_run = exporter.options().dry_run;
  RunLeases leases(exporter, options);
  // Every hour's lease and manifest first: a catch-up hour's tells whether it changed, any other's is the
  // revision a rerun follows.
  std::vector<PendingHour> pending;
  std::vector<std::size_t> report_of;  ///< index in out.summary.hours of each pending hour's report
  for (const HourTask& task : tasks) {
    const bool repeated = std::any_of(pending.begin(), pending.end(),
                                      [&](const PendingHour& h) { return h.task.window == task.window; });
    if (repeated) continue;  // one read and one write per hour, whatever asked for it twice
    // The lease first: an hour another run holds is neither read nor written here.
    HourReport held;
    auto lease = leases.acquire(task.window, held);
    if (!lease.ok()) {
      log::error("export.hour_failed", {{"hour", task.window.label()}, {"error", lease.error().to_string()}});
      out.summary.hours.push_back(HourReport::failed(task.window, lease.error()));
      continue;
    }
    if (*lease && !(*lease)->acquired) {
      out.summary.hours.push_back(std::move(held));
      continue;
    }
    aws::CallStats lookup;
    auto prior = exporter.prior_manifest(task.window, &lookup);
    if (!prior.ok() && !dry_run) {
      log::error("export.hour_failed", {{"hour", task.window.label()}, {"error", prior.error().to_string()}});
      out.summary.hours.push_back(HourReport::failed(task.window, prior.error()));
      leases.release(task.window, *lease);
      continue;
    }
    PendingHour hour{task, {}, lookup, std::move(*lease)};
    if (prior.ok()) hour.prior = std::move(*prior);
    report_of.push_back(out.summary.hours.size());
    out.summary.hours.emplace_back();
    pending.push_back(std::move(hour));
  }
  if (pending.empty()) return out;

  const ExportConfig& config = exporter.config();
  const MemoryPlan memory = exporter.memory_plan();
  // Scan mode: one scan for every hour. Query mode: each hour's own queries, when its turn comes.
  // The scan reads the hours in time order; they are written in the order asked (the Lambda's
  // scheduled hour before its catch-up hours).
  std::optional<MultiHourRead> scanned;
  std::optional<Error> scan_error;
  std::vector<HourWindow> windows;
  for (const PendingHour& h : pending) windows.push_back(h.task.window);
  std::sort(windows.begin(), windows.end());
  const auto read_index = [&windows](const HourWindow& w) {
    return static_cast<std::size_t>(std::lower_bound(windows.begin(), windows.end(), w) - windows.begin());
  };
  const std::int64_t scan_started = exporter.now_us();
  if (config.read_mode == ReadMode::kScan) {
    const std::string what = windows.size() == 1 ? windows.front().label()
                                                 : windows.front().label() + ".." + windows.back().label();
    log::info("export.read_started", {{"hours", what}, {"table", config.table}, {"read_mode", "scan"}});
    ReadProgress progress;
    std::shared_ptr<void> watching = options.watch_read ? options.watch_read(what, progress) : nullptr;
    auto read = read_hours(windows, config, exporter.ports(), &progress, memory.read);
    watching.reset();
    if (read.ok()) {
      scanned = std::move(*read);
      log::info("export.read_done", {{"hours", what},
                                     {"items_scanned", scanned->hours.front().items_scanned},
                                     {"spills", scanned->hours.front().spills}});
    } else {
      scan_error = std::move(read).error();
    }
  }

  bool started_one = false;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const PendingHour& hour = pending[i];
    const HourWindow& w = hour.task.window;
    HourReport& slot = out.summary.hours[report_of[i]];
    // An hour not done here (not started, or a recheck the deadline kept it from) has no report.
    bool left_for_later = false;
    const auto leave_for_later = [&] {
      out.not_done.push_back(w);
      slot = HourReport{};
      slot.window = w;  // what the erase below finds it by
      left_for_later = true;
    };
    // Whatever becomes of the hour below, its lease is given back when this iteration ends, and the
    // lease's requests are counted in the hour's report (an hour left for later has none: the next one
    // reported counts them).
    const auto give_back = std::shared_ptr<void>(nullptr, [&](void*) {
      leases.release(w, hour.lease);
      if (!left_for_later) leases.count_requests(slot);
    });
    // An hour that failed with error: reported failed, or stopped by the deadline. A catch-up hour
    // whose manifest stands and which the deadline kept from its recheck is left for the next run.
    const auto failed = [&](const Error& error) {
      if (is_deadline_exceeded(error) && hour.task.catch_up && hour.prior) {
        log::warn("export.hour_not_rechecked", {{"hour", w.label()}, {"reason", "the deadline came"}});
        leave_for_later();
        return;
      }
      log::error(is_deadline_exceeded(error) ? "export.hour_stopped" : "export.hour_failed",
                 {{"hour", w.label()}, {"error", error.to_string()}});
      slot = HourReport::failed(w, error);
    };
    if (scan_error) {
      failed(*scan_error);
      continue;
    }
    // An unchanged catch-up hour costs nothing more: it is reported whatever the time left.
    if (scanned && nothing_to_do(hour, scanned->hours[read_index(w)])) {
      slot = unchanged(hour, scanned->hours[read_index(w)]);
      continue;
    }
    if (started_one && options.may_start && !options.may_start(w)) {
      leave_for_later();
      continue;
    }
    started_one = true;
    // A scanned hour's write starts when the scan started: its duration includes the read it shared.
    const std::int64_t write_started = exporter.now_us();
    const std::int64_t started = scanned ? scan_started : write_started;
    Result<HourReport> report = Error::internal("unreachable");
    if (scanned) {
      report = write_read_hour(exporter, hour, std::move(scanned->hours[read_index(w)]), started);
    } else {
      ReadProgress progress;
      std::shared_ptr<void> watching = options.watch_read ? options.watch_read(w.label(), progress) : nullptr;
      auto read = read_hour(w, config, exporter.ports(), &progress, memory.read);
      watching.reset();
      report = read.ok() ? write_read_hour(exporter, hour, std::move(*read), started)
                         : Result<HourReport>(std::move(read).error());
    }
    // What the next hour will take: its write (and its query), the scan being shared.
    if (options.hour_done) options.hour_done(exporter.now_us() - write_started);
    if (!report.ok()) {
      failed(report.error());
      continue;
    }
    slot = std::move(*report);
  }
  // Hours left for later have no report.
  std::erase_if(out.summary.hours, [&](const HourReport& r) {
    return std::find(out.not_done.begin(), out.not_done.end(), r.window) != out.not_done.end();
  });
  return out;
}

HoursOutcome export_hours(Exporter& exporter, const std::vector<HourTask>& tasks, const HourRunner& run,
                          const HoursOptions& options) {
  HoursOutcome out;
  RunLeases leases(exporter, options);
  bool started_one = false;
  for (const HourTask& task : tasks) {
    const HourWindow& w = task.window;
    if (task.catch_up) {
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
    if (task.catch_up) log::info("export.catch_up", {{"hour", w.label()}, {"reason", "no manifest"}});
    started_one = true;
    const std::int64_t started = exporter.now_us();
    auto report = leases.run(w, run);
    if (options.hour_done) options.hour_done(exporter.now_us() - started);
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
