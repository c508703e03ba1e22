// `eaglesense run --workers W`: the scale-out stages as separate processes on this machine, in the
// order and with the concurrency the Step Functions state machine gives them (docs/SCALING.md).

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>

#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/log.h"
#include "export/scale_out.h"
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

  /// A running child; out is its stdout when captured.
  struct Child {
    pid_t pid = -1;
    int out_fd = -1;
    std::string description;
  };

  /// Starts `eaglesense args...`. Captured: stdout comes back through finish(); otherwise the
  /// child's stdout goes to this process's stderr (stdout is the run summary's).
  Result<Child> start(const std::vector<std::string>& args, bool capture) {
    std::vector<char*> argv;
    std::string self = "/proc/self/exe";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_) envp.push_back(e.data());
    envp.push_back(nullptr);

    int pipe_fds[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (capture) {
      if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return Error::io("pipe", std::strerror(errno));
      }
      posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    } else {
      posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    }
    Child child;
    child.description = fmt::format("eaglesense {}", fmt::join(args, " "));
    const int rc = posix_spawn(&child.pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (capture) ::close(pipe_fds[1]);
    if (rc != 0) {
      if (capture) ::close(pipe_fds[0]);
      return Error::io(child.description, std::strerror(rc)).with_context("spawn");
    }
    child.out_fd = capture ? pipe_fds[0] : -1;
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

/// Runs one child to completion: its captured stdout, or an error naming the command and code.
Result<std::string> run_child(Spawner& spawner, const std::vector<std::string>& args,
                              std::initializer_list<int> accepted = {kExitOk}) {
  ES_ASSIGN_OR_RETURN(Spawner::Child child, spawner.start(args, true));
  auto [code, out] = Spawner::finish(child);
  for (int ok : accepted) {
    if (code == ok) return std::move(out);
  }
  return Error::io(child.description, fmt::format("exited with code {}", code)).with_context("scale-out");
}

/// Runs commands with at most `parallel` children at a time; every command runs even if one fails.
/// Returns each command's exit code, in order.
Result<std::vector<int>> run_all(Spawner& spawner, const std::vector<std::vector<std::string>>& commands,
                                 std::size_t parallel) {
  std::vector<int> codes(commands.size(), -1);
  std::deque<std::pair<std::size_t, Spawner::Child>> running;
  std::size_t next = 0;
  std::optional<Error> spawn_error;
  while (next < commands.size() || !running.empty()) {
    while (next < commands.size() && running.size() < std::max<std::size_t>(parallel, 1) && !spawn_error) {
      auto child = spawner.start(commands[next], false);
      if (!child.ok()) {
        spawn_error = std::move(child).error();
        break;
      }
      running.emplace_back(next++, std::move(*child));
    }
    if (running.empty()) break;
    // Wait for whichever child ends first.
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      return Error::io("waitpid", std::strerror(errno));
    }
    for (auto it = running.begin(); it != running.end(); ++it) {
      if (it->second.pid != pid) continue;
      codes[it->first] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      running.erase(it);
      break;
    }
  }
  if (spawn_error) return std::move(*spawn_error);
  return codes;
}

std::vector<std::string> hour_args(std::string_view stage, const HourWindow& w) {
  return {std::string(stage), "--hour", w.label()};
}

/// One hour through every stage. The report comes from the manifest the finish stage wrote.
Result<exporter::HourReport> scale_out_hour(Spawner& spawner, const HourWindow& w, int workers,
                                            bool skip_complete, exporter::Exporter& exporter) {
  const auto started = Clock::now();
  std::vector<std::string> plan_args = hour_args("plan", w);
  plan_args.insert(plan_args.end(), {"--workers", std::to_string(workers)});
  if (skip_complete) plan_args.emplace_back("--skip-complete");
  ES_ASSIGN_OR_RETURN(std::string plan_out, run_child(spawner, plan_args));
  simdjson::dom::parser parser;
  simdjson::dom::element plan;
  if (parser.parse(plan_out).get(plan) != simdjson::SUCCESS) {
    return Error::invalid_data("plan", fmt::format("unreadable plan output: {}", plan_out));
  }
  bool complete = false;
  std::int64_t units = 0;
  if (plan["complete"].get(complete) != simdjson::SUCCESS ||
      plan["workers"].get(units) != simdjson::SUCCESS) {
    return Error::invalid_data("plan", fmt::format("unreadable plan output: {}", plan_out));
  }
  if (complete) {
    return exporter::HourReport::skipped(w);
  }
  const std::int64_t plan_ms = ms_since(started);

  // Work: every unit at once (the Map state's MaxConcurrency is the only other limit there).
  auto t = Clock::now();
  std::vector<std::vector<std::string>> work;
  for (int u = 0; u < units; ++u) {
    auto args = hour_args("work", w);
    args.insert(args.end(), {"--unit", std::to_string(u)});
    work.push_back(std::move(args));
  }
  ES_ASSIGN_OR_RETURN(std::vector<int> work_codes, run_all(spawner, work, work.size()));
  for (std::size_t u = 0; u < work_codes.size(); ++u) {
    if (work_codes[u] != kExitOk) {
      return Error::io(fmt::format("eaglesense work --hour {} --unit {}", w.label(), u),
                       fmt::format("exited with code {}; rerun that unit, then the merges", work_codes[u]))
          .with_context("scale-out");
    }
  }
  const std::int64_t work_ms = ms_since(t);

  // Merge: one process per client, at most `workers` at a time.
  t = Clock::now();
  auto list_args = hour_args("merge", w);
  list_args.emplace_back("--list-clients");
  ES_ASSIGN_OR_RETURN(std::string items, run_child(spawner, list_args));
  simdjson::dom::element list;
  simdjson::dom::array array;
  if (parser.parse(items).get(list) != simdjson::SUCCESS || list.get(array) != simdjson::SUCCESS) {
    return Error::invalid_data("merge --list-clients", "unreadable client list");
  }
  std::vector<std::vector<std::string>> merges;
  for (simdjson::dom::element item : array) {
    std::string_view client;
    if (item["client"].get(client) != simdjson::SUCCESS) {
      return Error::invalid_data("merge --list-clients", "an item without a client");
    }
    auto args = hour_args("merge", w);
    args.insert(args.end(), {"--client", std::string(client)});
    merges.push_back(std::move(args));
  }
  ES_ASSIGN_OR_RETURN(std::vector<int> merge_codes,
                      run_all(spawner, merges, static_cast<std::size_t>(std::max(workers, 1))));
  for (std::size_t i = 0; i < merge_codes.size(); ++i) {
    // 3: the client's bucket refused the object, which the ops bucket keeps; the manifest says so.
    if (merge_codes[i] != kExitOk && merge_codes[i] != kExitUndeliverable) {
      return Error::io(fmt::format("eaglesense {}", fmt::join(merges[i], " ")),
                       fmt::format("exited with code {}", merge_codes[i]))
          .with_context("scale-out");
    }
  }
  const std::int64_t merge_ms = ms_since(t);

  t = Clock::now();
  auto finish_args = hour_args("merge", w);
  finish_args.emplace_back("--finish");
  ES_ASSIGN_OR_RETURN(std::string finished, run_child(spawner, finish_args, {kExitOk, kExitUndeliverable}));
  const std::int64_t finish_ms = ms_since(t);

  ES_ASSIGN_OR_RETURN(auto store, exporter.ports().make_store());
  ES_ASSIGN_OR_RETURN(s3::GetResult got, store->get(exporter.config().ops_bucket, manifest_key(w)));
  ES_ASSIGN_OR_RETURN(Manifest manifest, parse_manifest(got.body));
  exporter::HourReport report;
  report.window = w;
  report.events_read = manifest.events_read;
  report.events_delivered = manifest.events_delivered;
  report.events_rejected = manifest.events_rejected;
  report.events_undeliverable = manifest.events_undeliverable;
  report.clients = manifest.objects.size();
  for (const ManifestObject& o : manifest.objects) {
    if (o.status == ObjectStatus::kDelivered) {
      ++report.objects;
      report.bytes += o.bytes;
    }
  }
  report.objects_detail = manifest.objects;
  report.manifest_key = manifest_key(w);
  // What only the stages saw (read capacity, requests of every stage) comes from finish's summary.
  const auto take = [](auto field, auto& out) { return field.get(out) == simdjson::SUCCESS; };
  simdjson::dom::element summary;
  const bool figures = parser.parse(finished).get(summary) == simdjson::SUCCESS &&
                       take(summary["items_scanned"], report.items_scanned) &&
                       take(summary["consumed_read_capacity"], report.consumed_capacity) &&
                       take(summary["requests"], report.requests) &&
                       take(summary["retries"], report.retries) &&
                       take(summary["throttles"], report.throttles) &&
                       take(summary["hours"].at(0)["out_of_window"], report.out_of_window);
  if (!figures) log::warn("scale_out.summary_incomplete", {{"hour", w.label()}, {"finish_stdout", finished}});
  report.duration_ms = ms_since(started);
  report.status = report.events_undeliverable > 0 ? exporter::HourStatus::kUndeliverable
                                                  : exporter::HourStatus::kExported;
  log::info("scale_out.hour_done", {{"hour", w.label()},
                                    {"workers", units},
                                    {"clients", static_cast<std::uint64_t>(merges.size())},
                                    {"plan_ms", plan_ms},
                                    {"work_ms", work_ms},
                                    {"merge_ms", merge_ms},
                                    {"finish_ms", finish_ms},
                                    {"duration_ms", report.duration_ms}});
  return report;
}

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
  exporter::Exporter exporter(config, std::move(*ports));
  Spawner spawner(env);
  // export_hours skips the catch-up hours that have a manifest before a plan process is spawned.
  exporter::RunSummary summary = exporter::export_hours(exporter, tasks, [&](const HourWindow& w) {
                                   return scale_out_hour(spawner, w, command.workers, false, exporter);
                                 }).summary;
  summary.duration_ms = ms_since(started);
  // The largest of this process and its stage processes (all waited for).
  rusage children{};
  getrusage(RUSAGE_CHILDREN, &children);
  summary.peak_rss_bytes = std::max(peak_rss_bytes(), static_cast<std::uint64_t>(children.ru_maxrss) * 1024);
  std::cout << exporter::render_summary(summary) << std::flush;
  return exporter::exit_code(summary);
}

}  // namespace es::cli
