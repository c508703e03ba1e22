// `eaglesense verify`: check an exported hour against its manifest and print the report.

#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "export/client_allow_list.h"
#include "export/verify.h"

namespace es::cli {
namespace {

std::string render_text(const exporter::VerifyReport& r) {
  std::string out = fmt::format("verify {}: manifest {}\n", r.window.label(), r.manifest_location);
  for (const exporter::VerifiedObject& o : r.objects) {
    const std::string who = o.client.empty() ? std::string("(rejected)") : o.client;
    out += fmt::format("  {:<8} {:<24} {:<13} {:>10} events {:>12} bytes  {}\n", o.ok ? "ok" : "MISMATCH",
                       who, o.status, o.events, o.bytes, o.location);
  }
  if (r.manifest_found) {
    out += fmt::format(
        "  counted {} events; manifest: read {} = delivered {} + rejected {} + undeliverable {}\n",
        r.events_counted, r.manifest.events_read, r.manifest.events_delivered, r.manifest.events_rejected,
        r.manifest.events_undeliverable);
  }
  if (r.source_checked) {
    out += fmt::format("  source: DynamoDB holds {} events of the hour now (in the window, and rejected)\n",
                       r.source_events_read);
  }
  for (const exporter::VerifyFinding& f : r.findings) {
    std::string where;
    if (!f.client.empty()) where += fmt::format("client {} ", f.client);
    if (!f.location.empty()) where += f.location + " ";
    out += fmt::format("MISMATCH {}{}: {}\n", where, f.check, f.message);
  }
  out += r.ok() ? fmt::format("result: ok ({} objects, {} events)\n", r.objects.size(), r.events_counted)
                : fmt::format("result: {} mismatch{} (exit {})\n", r.findings.size(),
                              r.findings.size() == 1 ? "" : "es", kExitMismatch);
  return out;
}

std::string render_json(const exporter::VerifyReport& r) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(r.window.label());
  w.key("ok").value(r.ok());
  w.key("manifest").value(r.manifest_location);
  w.key("manifest_found").value(r.manifest_found);
  w.key("events_counted").value(r.events_counted);
  if (r.manifest_found) {
    w.key("events_read").value(r.manifest.events_read);
    w.key("events_delivered").value(r.manifest.events_delivered);
    w.key("events_rejected").value(r.manifest.events_rejected);
    w.key("events_undeliverable").value(r.manifest.events_undeliverable);
  }
  w.key("source_checked").value(r.source_checked);
  if (r.source_checked) w.key("source_events_read").value(r.source_events_read);
  w.key("objects").begin_array();
  for (const exporter::VerifiedObject& o : r.objects) {
    w.begin_object();
    w.key("client").value(o.client);
    w.key("status").value(o.status);
    w.key("location").value(o.location);
    w.key("found").value(o.found);
    w.key("events").value(o.events);
    w.key("bytes").value(o.bytes);
    w.key("ok").value(o.ok);
    w.end_object();
  }
  w.end_array();
  w.key("findings").begin_array();
  for (const exporter::VerifyFinding& f : r.findings) {
    w.begin_object();
    w.key("client").value(f.client);
    w.key("location").value(f.location);
    w.key("check").value(f.check);
    w.key("message").value(f.message);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

}  // namespace

void VerifyCommand::add_to(CLI::App& app) {
  app.add_option("--hour", hour, "the hour to verify, e.g. 2026-11-29T10")->required();
  app.add_flag("--source", source, "also recount the hour in DynamoDB and compare per-client counts");
  app.add_flag("--json", json, "print the report as one JSON object");
  settings.add_to(app);
}

int VerifyCommand::run() {
  auto env = settings.environment();
  if (!env.ok()) return report_error(Error(env.error()).with_context("config"));
  auto config = load_export_config(*env);
  if (!config.ok()) return report_error(config.error());
  configure_logging(*config, false);
  auto window = HourWindow::parse_hour(hour);
  if (!window.ok()) return report_error(Error(window.error()).with_context("config", "--hour"));

  auto ports = exporter::make_aws_ports(*env, exporter::port_options_for(*config));
  if (!ports.ok()) return report_error(Error(ports.error()).with_context("config"));
  // verify re-reads the hour as the export did: the same clients are let through.
  if (Status listed = exporter::load_client_allow_list(*config, *ports); !listed.ok()) {
    return report_error(listed.error());
  }

  exporter::VerifyOptions options;
  options.source = source;
  auto report = exporter::verify_hour(*window, *config, *ports, options);
  if (!report.ok()) return report_error(report.error());
  std::cout << (json ? render_json(*report) : render_text(*report)) << std::flush;
  return report->ok() ? kExitOk : kExitMismatch;
}

}  // namespace es::cli
