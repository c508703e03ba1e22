// `eaglesense run --workers W`: the scale-out stages as separate processes on this machine, driven by
// exporter::run_scaled_out_hour in the order and with the concurrency the Step Functions state
// machine gives them (docs/SCALING.md). This file only starts the processes and reads what they print.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/json_reader.h"
#include "core/log.h"
#include "core/manifest.h"
#include "core/run_id.h"
#include "export/client_allow_list.h"
#include "export/scale_out/run.h"
#include "export/summary.h"

extern char** environ;  // NOLINT: POSIX

namespace es::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

/// Starts children of this program with the parent's settings in their environment.
class Spawner {
 public:
  Spawner(const EnvLookup& env) {  // NOLINT(google-explicit-constructor)
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view kv(*e);
      const auto eq = kv.find('=');
      if (eq != std::string_view::npos) vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    // Flags and the config file become environment: a child sees exactly the parent's settings.
    for (const SettingSpec& s : export_settings()) {
      if (auto v = env(s.env)) vars[std::string(s.env)] = *v;
    }
    vars.erase("EAGLESENSE_CONFIG");
    for (const auto& [k, v] : vars) env_.push_back(k + "=" + v);
  }

  /// A running child and the read end of its stdout.
  struct Child {
    pid_t pid = -1;
    int out_fd = -1;
    std::string description;
  };

  /// Starts `eaglesense args...`; its stdout comes back through finish(). Safe to call from several
  /// threads (the pipe is close-on-exec, so no other child holds its write end).
  Result<Child> start(const std::vector<std::string>& args) const {
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env_) envp.push_back(const_cast<char*>(e.c_str()));  // NOLINT: POSIX
    envp.push_back(nullptr);

    int pipe_fds[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      posix_spawn_file_actions_destroy(&actions);
      return Error::io("pipe", std::strerror(errno));
    }
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    Child child;
    child.description = fmt::format("eaglesense {}", fmt::join(args, " "));
    const int rc = posix_spawn(&child.pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (rc != 0) {
      ::close(pipe_fds[0]);
      return Error::io(child.description, std::strerror(rc)).with_context("spawn");
    }
    child.out_fd = pipe_fds[0];
    log::debug("scale_out.child_started", {{"command", child.description}, {"pid", child.pid}});
    return child;
  }

  /// Waits for child; returns its exit code (128 + signal when killed) and its captured stdout.
  static std::pair<int, std::string> finish(Child& child) {
    std::string out;
    if (child.out_fd >= 0) {
      char buf[65536];
      for (;;) {
        const ssize_t n = ::read(child.out_fd, buf, sizeof buf);
        if (n > 0) {
          out.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          break;
        }
      }
      ::close(child.out_fd);
      child.out_fd = -1;
    }
    int status = 0;
    while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {code, std::move(out)};
  }

 private:
  std::vector<std::string> env_;
};

std::vector<std::string> hour_args(std::string_view stage, const HourWindow& w) {
  return {std::string(stage), "--hour", w.label()};
}

/// The stages as child processes of this program, each stage's printed JSON read back as a typed
/// value. Work units all run at once (the Map state's MaxConcurrency is the only other limit there).
class ChildProcessStageRunner final : public exporter::StageRunner {
 public:
  /// run_id: this run's, which the plan stage takes the hour's lease under (the lease this process
  /// took already, so the plan finds it its own).
  ChildProcessStageRunner(const EnvLookup& env, std::string run_id)
      : spawner_(env), run_id_(std::move(run_id)) {}

  [[nodiscard]] std::size_t max_parallel() const override { return std::numeric_limits<std::size_t>::max(); }

  Result<exporter::PlannedHour> plan(const HourWindow& w, int workers, bool skip_complete) override {
    std::vector<std::string> args = hour_args("plan", w);
    args.insert(args.end(), {"--workers", std::to_string(workers), "--run-id", run_id_});
    if (skip_complete) args.emplace_back("--skip-complete");
    ES_ASSIGN_OR_RETURN(const std::string out, run_child(args, {kExitOk}, false));
    ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(out, "plan output"));
    exporter::PlannedHour planned;
    ES_ASSIGN_OR_RETURN(planned.complete, doc.boolean("complete"));
    ES_ASSIGN_OR_RETURN(planned.leased, doc.boolean("leased"));
    if (planned.leased) {
      ES_ASSIGN_OR_RETURN(planned.leased_by, doc.string("leased_by"));
      ES_ASSIGN_OR_RETURN(planned.leased_until_us, doc.instant("leased_until"));
    }
    ES_ASSIGN_OR_RETURN(const std::int64_t units, doc.int64("workers"));
    planned.units = static_cast<int>(std::clamp<std::int64_t>(units, 0, 10000));
    return planned;
  }

  Result<exporter::WorkedUnit> work(const HourWindow& w, int unit) override {
    auto args = hour_args("work", w);
    args.insert(args.end(), {"--unit", std::to_string(unit)});
    ES_ASSIGN_OR_RETURN(const std::string out,
                        run_child(args, {kExitOk}, true, "; rerun that unit, then the merges"));
    ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(out, "work output"));
    exporter::WorkedUnit worked;
    ES_ASSIGN_OR_RETURN(worked.events_read, doc.uint64("events_read"));
    ES_ASSIGN_OR_RETURN(worked.events_rejected, doc.uint64("events_rejected"));
    ES_ASSIGN_OR_RETURN(worked.clients, doc.uint64("clients"));
    return worked;
  }

  Result<std::vector<std::string>> list_clients(const HourWindow& w) override {
    auto args = hour_args("merge", w);
    args.emplace_back("--list-clients");
    ES_ASSIGN_OR_RETURN(const std::string out, run_child(args, {kExitOk}, false));
    ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(out, "merge --list-clients"));
    ES_ASSIGN_OR_RETURN(const std::vector<json::Value> items, doc.array());
    std::vector<std::string> clients;
    clients.reserve(items.size());
    for (const json::Value& item : items) {
      ES_ASSIGN_OR_RETURN(const std::string_view client, item.string("client"));
      clients.emplace_back(client);
    }
    return clients;
  }

  Result<ManifestObject> merge(const HourWindow& w, const std::string& client) override {
    auto args = hour_args("merge", w);
    args.insert(args.end(), {"--client", client});
    // 3: the client's bucket refused the object, which the ops bucket keeps; the manifest says so.
    ES_ASSIGN_OR_RETURN(const std::string out, run_child(args, {kExitOk, kExitUndeliverable}, true));
    return parse_manifest_object(out);
  }

  Result<exporter::HourReport> finish(const HourWindow& w) override {
    auto args = hour_args("merge", w);
    args.emplace_back("--finish");
    ES_ASSIGN_OR_RETURN(const std::string out, run_child(args, {kExitOk, kExitUndeliverable}, false));
    return read_finish_summary(out);
  }

 private:
  /// Runs one child to completion: its stdout (also copied to stderr when echo: stdout is the run
  /// summary's), or an error naming the command and its exit code (and hint).
  Result<std::string> run_child(const std::vector<std::string>& args, std::initializer_list<int> accepted,
                                bool echo, std::string_view hint = {}) {
    ES_ASSIGN_OR_RETURN(Spawner::Child child, spawner_.start(args));
    auto [code, out] = Spawner::finish(child);
    if (echo && !out.empty()) {
      std::fwrite(out.data(), 1, out.size(), stderr);
      std::fflush(stderr);
    }
    for (int ok : accepted) {
      if (code == ok) return std::move(out);
    }
    return Error::io(child.description, fmt::format("exited with code {}{}", code, hint))
        .with_context("scale-out");
  }

  /// The finish stage's run summary (one hour) as that hour's report.
  static Result<exporter::HourReport> read_finish_summary(std::string_view out) {
    ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(out, "finish summary"));
    ES_ASSIGN_OR_RETURN(const std::vector<json::Value> hours, doc.array("hours"));
    if (hours.size() != 1) return doc.error(fmt::format("{} hours, expected 1", hours.size()));
    const json::Value& h = hours.front();
    exporter::HourReport r;
    ES_ASSIGN_OR_RETURN(r.status, h.named("status", exporter::kHourStatusNames));
    ES_ASSIGN_OR_RETURN(r.events_read, h.uint64("events_read"));
    ES_ASSIGN_OR_RETURN(r.events_delivered, h.uint64("events_delivered"));
    ES_ASSIGN_OR_RETURN(r.events_rejected, h.uint64("events_rejected"));
    ES_ASSIGN_OR_RETURN(r.events_undeliverable, h.uint64("events_undeliverable"));
    ES_ASSIGN_OR_RETURN(r.clients, h.uint64("clients"));
    ES_ASSIGN_OR_RETURN(r.objects, h.uint64("objects"));
    ES_ASSIGN_OR_RETURN(r.bytes, h.uint64("bytes"));
    ES_ASSIGN_OR_RETURN(r.items_scanned, h.uint64("items_scanned"));
    ES_ASSIGN_OR_RETURN(r.out_of_window, h.uint64("out_of_window"));
    ES_ASSIGN_OR_RETURN(r.manifest_key, h.string_or_empty("manifest"));
    // What only the stages saw: read capacity and the requests of every stage.
    ES_ASSIGN_OR_RETURN(r.consumed_capacity, doc.number("consumed_read_capacity"));
    ES_ASSIGN_OR_RETURN(r.requests, doc.uint64("requests"));
    ES_ASSIGN_OR_RETURN(r.retries, doc.uint64("retries"));
    ES_ASSIGN_OR_RETURN(r.throttles, doc.uint64("throttles"));
    return r;
  }

  Spawner spawner_;
  std::string run_id_;
};

}  // namespace

int run_scaled_out(const RunCommand& command, const std::vector<exporter::HourTask>& tasks,
                   const EnvLookup& env, const ExportConfig& config) {
  const auto started = Clock::now();
  if (command.dry_run) {
    return report_error(
        Error::invalid_argument("--workers", "cannot be combined with --dry-run").with_context("config"));
  }
  auto ports = exporter::make_aws_ports(env, exporter::port_options_for(config));
  if (!ports.ok()) return report_error(Error(ports.error()).with_context("config"));
  // Each stage process reads the allow-list for itself; read here too, so that a missing list
  // fails the run before any stage starts.
  ExportConfig listed_config = config;
  if (Status listed = exporter::load_client_allow_list(listed_config, *ports); !listed.ok()) {
    return report_error(listed.error());
  }
  exporter::ExportOptions options;
  options.run_id = make_run_id(system_now_us());
  exporter::Exporter exporter(listed_config, std::move(*ports), options);
  ChildProcessStageRunner runner(env, options.run_id);
  // export_hours skips the catch-up hours that have a manifest before a plan process is spawned.
  exporter::RunSummary summary = exporter::export_hours(exporter, tasks, [&](const HourWindow& w) {
                                   return exporter::run_scaled_out_hour(runner, w, command.workers);
                                 }).summary;
  summary.run_id = options.run_id;
  summary.duration_ms = ms_since(started);
  // The largest of this process and its stage processes (all waited for).
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  summary.peak_rss_bytes = std::max(peak_rss_bytes(), static_cast<std::uint64_t>(children.ru_maxrss) * 1024);
  std::cout << exporter::render_summary(summary) << std::flush;
  return exporter::exit_code(summary);
}

}  // namespace es::cli
