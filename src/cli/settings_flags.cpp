#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/log.h"

namespace es::cli {

void SettingFlags::add_to(CLI::App& app, std::initializer_list<std::string_view> without) {
  app.add_option("--config", config_file_, "settings file of KEY=VALUE lines (also EAGLESENSE_CONFIG)");
  for (const SettingSpec& s : export_settings()) {
    if (std::find(without.begin(), without.end(), s.env) != without.end()) continue;
    std::string help = fmt::format("{} [env {}", s.help, s.env);
    if (!s.default_value.empty()) help += fmt::format(", default {}", s.default_value);
    help += "]";
    const std::string env(s.env);
    app.add_option_function<std::string>(
        std::string(s.flag), [this, env](const std::string& v) { flags_[env] = v; }, help);
  }
}

Result<EnvLookup> SettingFlags::environment() const {
  EnvLookup process = process_environment();
  std::string path = config_file_;
  if (path.empty()) path = process("EAGLESENSE_CONFIG").value_or("");
  EnvLookup file = map_environment({});
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in)
      return Error::invalid_argument("EAGLESENSE_CONFIG", fmt::format("cannot read config file '{}'", path));
    std::stringstream text;
    text << in.rdbuf();
    ES_ASSIGN_OR_RETURN(auto values, parse_config_file(text.str(), path));
    file = map_environment(std::move(values));
  }
  return layered_environment(map_environment(flags_), layered_environment(process, file));
}

void configure_logging(const ExportConfig& config, bool interactive) {
  log::Level level = log::Level::kInfo;
  static_cast<void>(log::parse_level(config.log_level, level));
  if (interactive && level > log::Level::kDebug) level = std::max(level, log::Level::kWarn);
  log::set_level(level);
}

int report_error(const Error& error) {
  const bool config = error.kind == ErrorKind::kInvalidArgument && error.operation == "config";
  log::error(config ? "config.invalid" : "run.failed", {{"error", error.to_string()}});
  if (isatty(STDERR_FILENO) != 0) std::cerr << "eaglesense: " << error.to_string() << "\n";
  return config ? kExitConfig : kExitFailure;
}

std::uint64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // ru_maxrss is in KiB on Linux
}

}  // namespace es::cli
