// `eaglesense status`: the state of a range of hours from the ops bucket, as a table, JSON or HTML.

#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/log.h"
#include "export/status.h"
#include "export/status_report.h"

namespace es::cli {
namespace {

/// The range `status` shows when none is named.
constexpr int kDefaultHours = 24;

Result<HourWindow> parse_option_hour(const std::string& text, std::string_view option) {
  auto h = HourWindow::parse_hour(text);
  if (h.ok()) return *h;
  Error e = h.error();
  e.operation = "config";
  e.resource = std::string(option);
  return e;
}

}  // namespace

void StatusCommand::add_to(CLI::App& app) {
  app.add_option("--from", from,
                 "the first hour to show, e.g. 2026-11-29T00 (default: 24 hours before --to)");
  app.add_option("--to", to, "the last hour to show, inclusive (default: the last complete hour)");
  app.add_option("--format", format, "table | json | html (one self-contained page)")
      ->check(CLI::IsMember({"table", "json", "html"}));
  app.add_option("--output", output, "write the report to this file instead of stdout");
  // The objects' format is the manifests' business here: --format is the report's.
  settings.add_to(app, {"OUTPUT_FORMAT"});
}

Result<std::vector<HourWindow>> StatusCommand::hours_at(std::int64_t now) const {
  HourWindow last = HourWindow::last_complete_hour(now);
  if (!to.empty()) {
    ES_ASSIGN_OR_RETURN(last, parse_option_hour(to, "--to"));
  }
  HourWindow first{last.start_us - (kDefaultHours - 1) * kMicrosPerHour};
  if (!from.empty()) {
    ES_ASSIGN_OR_RETURN(first, parse_option_hour(from, "--from"));
  }
  if (last < first) return Error::invalid_argument("--to", "is before --from").with_context("config");
  if (last.start_us - first.start_us > 24LL * 366 * kMicrosPerHour) {
    return Error::invalid_argument("--from/--to", "spans more than a year").with_context("config");
  }
  std::vector<HourWindow> hours;
  for (HourWindow w = first; w <= last; w = w.next()) hours.push_back(w);
  return hours;
}

int StatusCommand::run() {
  const std::int64_t now = system_now_us();
  auto env = settings.environment();
  if (!env.ok()) return report_error(Error(env.error()).with_context("config"));
  auto config = load_export_config(*env);
  if (!config.ok()) return report_error(config.error());
  configure_logging(*config, false);
  auto hours = hours_at(now);
  if (!hours.ok()) return report_error(hours.error());
  const auto chosen = value_named(exporter::kStatusFormatNames, format);
  if (!chosen) {
    return report_error(
        Error::invalid_argument(
            "--format", fmt::format("'{}' is not one of {}", format, names_of(exporter::kStatusFormatNames)))
            .with_context("config"));
  }

  auto ports = exporter::make_aws_ports(*env, exporter::port_options_for(*config));
  if (!ports.ok()) return report_error(Error(ports.error()).with_context("config"));
  exporter::StatusOptions options;
  options.concurrency = config->upload_concurrency;
  options.now_us = now;
  auto report = exporter::read_status(*hours, *config, *ports, options);
  if (!report.ok()) return report_error(report.error());
  const std::string text = exporter::render_status(*report, *chosen);
  if (output.empty()) {
    std::cout << text << std::flush;
  } else {
    std::ofstream file(output, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) return report_error(Error::io(output, "cannot write the report").with_context("status"));
    log::info("status.written", {{"file", output}, {"bytes", static_cast<std::uint64_t>(text.size())}});
  }
  return exporter::status_exit_code(*report);
}

}  // namespace es::cli
