#pragma once
/// The subcommands of the eaglesense program. Each registers its options on the CLI11 app and
/// returns the process exit code when run; main() only dispatches.

#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/env.h"
#include "core/time.h"
#include "export/hours.h"

namespace es::cli {

/// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfig = 2;
inline constexpr int kExitUndeliverable = 3;
/// `eaglesense verify`: the hour differs from its manifest (or has none); see docs/VERIFY.md.
inline constexpr int kExitMismatch = 4;

/// The settings of export_settings() as flags of a subcommand, and their layering:
/// defaults < config file < environment < flags.
class SettingFlags {
 public:
  /// Adds --config and one flag per setting to app, but for the settings (by variable) in without:
  /// those a command has no use for and whose flag it spells otherwise (`status --format`).
  void add_to(CLI::App& app, std::initializer_list<std::string_view> without = {});
  /// The layered view of all settings (call after parsing).
  [[nodiscard]] Result<EnvLookup> environment() const;

 private:
  std::map<std::string, std::string, std::less<>> flags_;
  std::string config_file_;
};

/// Applies LOG_LEVEL from the layered settings; when stderr is a terminal and not debug, keeps the
/// terminal for the progress line (logs of warn and above still print).
void configure_logging(const ExportConfig& config, bool interactive);

struct RunCommand {
  SettingFlags settings;
  std::string hour;
  std::string from;
  std::string to;
  int catch_up = 0;
  bool dry_run = false;
  bool allow_shrink = false;
  bool no_progress = false;
  int workers = 0;  ///< > 0: the scale-out stages as separate processes (docs/SCALING.md)
  void add_to(CLI::App& app);
  int run();
  /// The hours the options name, oldest first, at time now (µs since the epoch): --hour H;
  /// --from/--to, inclusive; --catch-up N, the N complete hours before now; none of them, the last
  /// complete hour.
  /// A contradiction or a bad hour is a configuration error naming the option.
  [[nodiscard]] Result<std::vector<HourWindow>> hours_at(std::int64_t now) const;
};

/// `eaglesense plan --hour H --workers W`: the first scale-out stage (docs/SCALING.md).
struct PlanCommand {
  SettingFlags settings;
  std::string hour;
  int workers = 1;
  bool skip_complete = false;
  std::string run_id;  ///< --run-id: who holds the hour's lease ("": a new run id)
  void add_to(CLI::App& app);
  int run();
};

/// `eaglesense work --hour H --unit I`: one work unit.
struct WorkCommand {
  SettingFlags settings;
  std::string hour;
  int unit = 0;
  void add_to(CLI::App& app);
  int run();
};

/// `eaglesense merge --hour H (--list-clients | --client C | --finish)`.
struct MergeCommand {
  SettingFlags settings;
  std::string hour;
  std::string client;
  bool list_clients = false;
  bool finish = false;
  void add_to(CLI::App& app);
  int run();
};

/// `eaglesense run --workers W` for hours: plan, W work processes, list-clients, the merges (at most W
/// at a time) and finish, each a child process of this program, as the state machine runs them.
int run_scaled_out(const RunCommand& command, const std::vector<exporter::HourTask>& tasks,
                   const EnvLookup& env, const ExportConfig& config);

struct SeedCommand {
  SettingFlags settings;
  std::uint64_t events = 1000;
  int clients = 10;
  std::string hour;
  bool create_table = false;
  bool with_index = true;
  bool create_buckets = false;
  int missing_bucket_clients = 0;
  std::uint64_t bad = 0;
  int writers = 4;
  std::uint64_t seed = 1;
  double skew = -1;  ///< < 0: even spread
  void add_to(CLI::App& app);
  int run();
};

/// `eaglesense lambda`: the Lambda Runtime API loop (AWS_LAMBDA_RUNTIME_API); see docs/LAMBDA.md.
struct LambdaCommand {
  SettingFlags settings;
  void add_to(CLI::App& app);
  int run();
};

/// `eaglesense verify --hour H [--source] [--json]`: checks an exported hour against its manifest
/// (docs/VERIFY.md). Exit 0 all matches, 4 a mismatch, 2 a configuration error, 1 a read failure.
struct VerifyCommand {
  SettingFlags settings;
  std::string hour;
  bool source = false;
  bool json = false;
  void add_to(CLI::App& app);
  int run();
};

/// `eaglesense status [--from H1 --to H2] [--format table|json|html] [--output FILE]`: the state of each
/// hour of the range and each client's totals, from the manifests (and hour leases) in the ops bucket.
/// Exit 0 every hour complete and delivered, 3 undeliverable events remain, 1 an hour missing or failed
/// (or a read failure), 2 a configuration error.
struct StatusCommand {
  SettingFlags settings;
  std::string from;
  std::string to;
  std::string format = "table";
  std::string output;
  void add_to(CLI::App& app);
  int run();
  /// The hours the options name at time now: --from/--to, inclusive; --from alone, up to the last
  /// complete hour; --to alone, the 24 hours ending with it; neither, the last 24 complete hours.
  [[nodiscard]] Result<std::vector<HourWindow>> hours_at(std::int64_t now) const;
};

/// Reads an error out for the user on stderr (and as a log line) and returns the exit code for it.
int report_error(const Error& error);

/// Peak resident set size of this process, in bytes.
std::uint64_t peak_rss_bytes();

}  // namespace es::cli
