// The scale-out stages as commands: `plan`, `work`, `merge` (docs/SCALING.md).

#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/json_writer.h"
#include "core/run_id.h"
#include "export/client_allow_list.h"
#include "export/metrics.h"
#include "export/scale_out.h"
#include "export/summary.h"

namespace es::cli {
namespace {

/// What every stage command starts from: the layered settings, the configuration and an exporter.
struct StageSetup {
  EnvLookup env;
  ExportConfig config;
  HourWindow window;
  std::unique_ptr<exporter::Exporter> exporter;
};

Result<StageSetup> make_setup(const SettingFlags& settings, const std::string& hour) {
  StageSetup s;
  ES_ASSIGN_OR_RETURN(s.env, settings.environment());
  ES_ASSIGN_OR_RETURN(s.config, load_export_config(s.env));
  configure_logging(s.config, false);
  if (hour.empty()) return Error::invalid_argument("--hour", "is required").with_context("config");
  auto window = HourWindow::parse_hour(hour);
  if (!window.ok()) return Error(window.error()).with_context("config", "--hour");
  s.window = *window;
  auto ports = exporter::make_aws_ports(s.env, exporter::port_options_for(s.config));
  if (!ports.ok()) return Error(ports.error()).with_context("config");
  ES_TRY(exporter::load_client_allow_list(s.config, *ports));
  s.exporter = std::make_unique<exporter::Exporter>(s.config, std::move(*ports));
  return s;
}

void add_hour_option(CLI::App& app, std::string& hour) {
  app.add_option("--hour", hour, "the hour, e.g. 2026-11-29T10")->required();
}

}  // namespace

void PlanCommand::add_to(CLI::App& app) {
  add_hour_option(app, hour);
  app.add_option("--workers", workers, "work units to split the hour into")->check(CLI::Range(1, 10000));
  app.add_flag("--skip-complete", skip_complete, "plan nothing when the hour already has its manifest");
  app.add_option("--run-id", run_id,
                 "the run that holds the hour's lease until finish (default: a new run id)");
  settings.add_to(app);
}

int PlanCommand::run() {
  auto setup = make_setup(settings, hour);
  if (!setup.ok()) return report_error(setup.error());
  exporter::ScaleOut stages(*setup->exporter, run_id.empty() ? make_run_id(system_now_us()) : run_id);
  auto planned = stages.plan(setup->window, workers, skip_complete);
  if (!planned.ok()) return report_error(planned.error());
  std::cout << exporter::render_plan_output(*planned) << '\n' << std::flush;
  return kExitOk;
}

void WorkCommand::add_to(CLI::App& app) {
  add_hour_option(app, hour);
  app.add_option("--unit", unit, "the work unit (0 to the plan's units - 1)")->required();
  settings.add_to(app);
}

int WorkCommand::run() {
  auto setup = make_setup(settings, hour);
  if (!setup.ok()) return report_error(setup.error());
  exporter::ScaleOut stages(*setup->exporter);
  auto done = stages.work(setup->window, unit);
  if (!done.ok()) return report_error(done.error());
  std::uint64_t events = 0;
  for (const auto& r : done->runs) events += r.events;
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(setup->window.label());
  w.key("unit").value(unit);
  w.key("events_read").value(done->events_read);
  w.key("events_staged").value(events);
  w.key("events_rejected").value(done->rejected);
  w.key("clients").value(static_cast<std::uint64_t>(done->runs.size()));
  w.key("unit_manifest_key").value(exporter::unit_manifest_key(setup->window, unit));
  w.end_object();
  std::cout << out << '\n' << std::flush;
  return kExitOk;
}

void MergeCommand::add_to(CLI::App& app) {
  add_hour_option(app, hour);
  auto* c = app.add_option("--client", client, "merge this client's runs into its object");
  auto* l = app.add_flag("--list-clients", list_clients,
                         "check every unit is done; write and print the merge items (one per client)");
  auto* f = app.add_flag("--finish", finish, "write the rejected file and the manifest; delete staging");
  c->excludes(l)->excludes(f);
  l->excludes(f);
  settings.add_to(app);
}

int MergeCommand::run() {
  if (client.empty() && !list_clients && !finish) {
    return report_error(
        Error::invalid_argument("--client/--list-clients/--finish", "choose one").with_context("config"));
  }
  const std::int64_t started = system_now_us();
  auto setup = make_setup(settings, hour);
  if (!setup.ok()) return report_error(setup.error());
  exporter::ScaleOut stages(*setup->exporter);
  const HourWindow& w = setup->window;
  if (list_clients) {
    auto clients = stages.list_clients(w);
    if (!clients.ok()) return report_error(clients.error());
    // The items as written to the ops bucket: one merge event per client.
    std::cout << exporter::render_merge_items(w, *clients) << std::flush;
    return kExitOk;
  }
  if (!client.empty()) {
    auto merged = stages.merge(w, client);
    if (!merged.ok()) return report_error(merged.error());
    std::cout << render_manifest_object(merged->object) << '\n' << std::flush;
    return merged->object.status == ObjectStatus::kDelivered ? kExitOk : kExitUndeliverable;
  }
  auto metrics = exporter::MetricsPublisher::make(setup->config.metrics.value_or(MetricsMode::kNone),
                                                  setup->env, setup->config);
  if (!metrics.ok()) return report_error(metrics.error());
  exporter::RunSummary summary;
  auto report = stages.finish(w);
  if (!report.ok()) {
    report_error(report.error());
    summary.hours.push_back(exporter::HourReport::failed(w, report.error()));
  } else {
    summary.hours.push_back(std::move(*report));
  }
  summary.duration_ms = (system_now_us() - started) / 1000;
  summary.peak_rss_bytes = peak_rss_bytes();
  std::cout << exporter::render_summary(summary) << std::flush;
  static_cast<void>((*metrics)->publish(summary, {system_now_us() / 1000, "", ""}, stderr));
  return exporter::exit_code(summary);
}

}  // namespace es::cli
