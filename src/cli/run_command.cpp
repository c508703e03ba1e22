// `eaglesense run`: export the chosen hours and print the summary.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/run_id.h"
#include "export/client_allow_list.h"
#include "export/exporter.h"
#include "export/hours.h"
#include "export/metrics.h"
#include "export/summary.h"

namespace es::cli {
namespace {

/// Redraws one status line on the terminal twice a second while an hour is read.
class ProgressLine {
 public:
  ProgressLine(const exporter::ReadProgress& progress, std::string hour)
      : progress_(progress),
        hour_(std::move(hour)),
        started_(std::chrono::steady_clock::now()),
        thread_([this] { loop(); }) {}
  ~ProgressLine() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    draw();
    std::fputs("\n", stderr);
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void loop() {
    // A thread's body: nothing may escape it (std::terminate). A line that cannot be drawn (e.g.
    // std::bad_alloc formatting it) stops the redraws, not the run.
    try {
      std::unique_lock lock(mutex_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return done_; })) draw();
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
  }
  void draw() const {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const auto read = progress_.events_read.load();
    const std::string line = fmt::format("\r{}  segments {}/{}  events read {}  {:.0f} events/s   ", hour_,
                                         progress_.units_done.load(), progress_.units_total.load(), read,
                                         secs > 0 ? static_cast<double>(read) / secs : 0.0);
    std::fputs(line.c_str(), stderr);
  }

  const exporter::ReadProgress& progress_;
  std::string hour_;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

void RunCommand::add_to(CLI::App& app) {
  app.add_option("--hour", hour, "export this hour, e.g. 2026-11-29T10");
  app.add_option("--from", from, "export every hour from this one...");
  app.add_option("--to", to, "...to this one, inclusive");
  app.add_option("--catch-up", catch_up,
                 "recheck the last N complete hours: export those with no manifest or whose events changed, "
                 "retry undeliverable clients")
      ->check(CLI::Range(1, 24 * 31));
  app.add_flag("--dry-run", dry_run, "read and encode, upload nothing");
  app.add_flag("--allow-shrink", allow_shrink,
               "a re-export may write a client's object with fewer events than its last revision");
  app.add_flag("--no-progress", no_progress, "no progress line even on a terminal");
  app.add_option("--workers", workers,
                 "scale out: plan, W work processes, one merge per client (docs/SCALING.md)")
      ->check(CLI::Range(1, 10000));
  settings.add_to(app);
}

Result<std::vector<HourWindow>> RunCommand::hours_at(std::int64_t now) const {
  const int choices =
      (!hour.empty() ? 1 : 0) + (!from.empty() || !to.empty() ? 1 : 0) + (catch_up > 0 ? 1 : 0);
  if (choices > 1) {
    return Error::invalid_argument("--hour/--from/--to/--catch-up", "choose one way to name the hours")
        .with_context("config");
  }
  // A bad hour names the option it came in (parse_hour names only "hour").
  const auto parse = [](const std::string& text, std::string_view option) -> Result<HourWindow> {
    auto h = HourWindow::parse_hour(text);
    if (h.ok()) return *h;
    Error e = h.error();
    e.operation = "config";
    e.resource = std::string(option);
    return e;
  };
  std::vector<HourWindow> hours;
  if (!hour.empty()) {
    ES_ASSIGN_OR_RETURN(const HourWindow h, parse(hour, "--hour"));
    hours.push_back(h);
  } else if (!from.empty() || !to.empty()) {
    if (from.empty() || to.empty()) {
      return Error::invalid_argument("--from/--to", "give both --from and --to").with_context("config");
    }
    ES_ASSIGN_OR_RETURN(const HourWindow a, parse(from, "--from"));
    ES_ASSIGN_OR_RETURN(const HourWindow b, parse(to, "--to"));
    if (b < a) return Error::invalid_argument("--to", "is before --from").with_context("config");
    if (b.start_us - a.start_us > 24LL * 366 * kMicrosPerHour) {
      return Error::invalid_argument("--from/--to", "spans more than a year").with_context("config");
    }
    for (HourWindow w = a; w <= b; w = w.next()) hours.push_back(w);
  } else {
    const HourWindow last = HourWindow::last_complete_hour(now);
    const int n = catch_up > 0 ? catch_up : 1;
    for (int i = n - 1; i >= 0; --i) hours.push_back(HourWindow{last.start_us - i * kMicrosPerHour});
  }
  return hours;
}

int RunCommand::run() {
  const std::int64_t started = system_now_us();
  auto env = settings.environment();
  if (!env.ok()) return report_error(env.error());
  auto config = load_export_config(*env);
  if (!config.ok()) return report_error(config.error());
  const bool interactive = isatty(STDERR_FILENO) != 0 && !no_progress;
  configure_logging(*config, interactive);

  // Which hours: validated before any I/O.
  auto chosen = hours_at(started);
  if (!chosen.ok()) return report_error(chosen.error());
  // Catch-up rechecks the hours that have a manifest (a dry run exports them all).
  std::vector<exporter::HourTask> tasks;
  for (const HourWindow& w : *chosen) tasks.push_back({w, catch_up > 0 && !dry_run});

  if (workers > 0) return run_scaled_out(*this, tasks, *env, *config);
  auto ports = exporter::make_aws_ports(*env, exporter::port_options_for(*config));
  if (!ports.ok()) return report_error(Error(ports.error()).with_context("config"));
  if (Status listed = exporter::load_client_allow_list(*config, *ports); !listed.ok()) {
    return report_error(listed.error());
  }
  auto metrics =
      exporter::MetricsPublisher::make(config->metrics.value_or(MetricsMode::kNone), *env, *config);
  if (!metrics.ok()) return report_error(metrics.error());

  exporter::ExportOptions options;
  options.dry_run = dry_run;
  options.allow_shrink = allow_shrink;
  options.run_id = make_run_id(started);
  exporter::Exporter exporter(*config, std::move(*ports), options);
  exporter::HoursOptions hours;
  if (interactive) {
    hours.watch_read = [](const std::string& what, const exporter::ReadProgress& progress) {
      return std::static_pointer_cast<void>(std::make_shared<ProgressLine>(progress, what));
    };
  }
  exporter::RunSummary summary = exporter::export_hours(exporter, tasks, hours).summary;
  summary.dry_run = dry_run;
  summary.run_id = options.run_id;
  summary.duration_ms = (system_now_us() - started) / 1000;
  summary.peak_rss_bytes = peak_rss_bytes();
  std::cout << exporter::render_summary(summary) << std::flush;
  // stdout holds the summary: the EMF record goes among the log lines (docs/LAMBDA.md, "Metrics").
  static_cast<void>((*metrics)->publish(summary, {system_now_us() / 1000, "", ""}, stderr));
  return exporter::exit_code(summary);
}

}  // namespace es::cli
