// The status report as a text table and as JSON (the HTML page is status_report_html.cpp).

#include <fmt/format.h>

#include "core/json_writer.h"
#include "export/status_report.h"

namespace es::exporter {

std::vector<std::string> hour_runs(const std::vector<HourWindow>& hours) {
  std::vector<std::string> runs;
  for (std::size_t i = 0; i < hours.size();) {
    std::size_t j = i;
    while (j + 1 < hours.size() && hours[j + 1] == hours[j].next()) ++j;
    runs.push_back(j == i ? hours[i].label() : fmt::format("{}..{}", hours[i].label(), hours[j].label()));
    i = j + 1;
  }
  return runs;
}

std::string status_verdict(const StatusReport& report) {
  const int code = status_exit_code(report);
  const std::size_t missing = report.count(HourState::kMissing);
  const std::size_t failed = report.count(HourState::kFailed);
  const std::size_t in_progress = report.count(HourState::kInProgress);
  std::string why;
  if (code == 1) {
    why = fmt::format("{} hour{} missing, {} failed: export them again (run --from/--to or --catch-up)",
                      missing, missing == 1 ? "" : "s", failed);
  } else if (code == 3) {
    why = fmt::format("{} undeliverable events remain in the ops bucket", report.totals.events_undeliverable);
  } else {
    why = "every hour is complete and delivered";
    if (in_progress > 0) why = "every hour is complete and delivered, or being exported";
  }
  if (code != 0 && in_progress > 0) why += fmt::format("; {} in progress", in_progress);
  return fmt::format("exit {}: {}", code, why);
}

namespace {

std::string hour_note(const HourOverview& h) {
  std::string note;
  const auto add = [&note](std::string_view part) {
    if (!note.empty()) note += "; ";
    note += part;
  };
  if (h.revised()) add(fmt::format("revised r{} ({})", h.revision, h.reason));
  if (h.state == HourState::kCompleteUndeliverable) {
    std::string who;
    for (const StatusObject& o : h.objects) {
      if (o.status != ObjectStatus::kUndeliverable) continue;
      if (!who.empty()) who += ',';
      who += o.client;
    }
    add("undeliverable: " + who);
  }
  if (h.state == HourState::kInProgress && h.lock) {
    add(fmt::format("run {} on {} until {}", h.lock->run_id, h.lock->holder,
                    format_iso8601_us(h.lock->expires_at_us)));
  }
  if (!h.note.empty()) add(h.note);
  return note;
}

}  // namespace

std::string render_status_table(const StatusReport& r) {
  std::string out = fmt::format("status of {} .. {} ({} hour{}), ops bucket {}, at {}\n\n", r.from.label(),
                                r.to.label(), r.hours.size(), r.hours.size() == 1 ? "" : "s", r.ops_bucket,
                                format_iso8601_us(r.generated_at_us));
  out += fmt::format("{:<14} {:<23} {:>3} {:>10} {:>10} {:>9} {:>13} {:>7} {:>13} {:>9}  {}\n", "hour",
                     "state", "rev", "read", "delivered", "rejected", "undeliverable", "clients", "bytes",
                     "seconds", "note");
  for (const HourOverview& h : r.hours) {
    if (h.complete()) {
      out += fmt::format("{:<14} {:<23} {:>3} {:>10} {:>10} {:>9} {:>13} {:>7} {:>13} {:>9.1f}  {}\n",
                         h.window.label(), to_string(h.state), h.revision, h.events_read, h.events_delivered,
                         h.events_rejected, h.events_undeliverable, h.clients, h.bytes,
                         static_cast<double>(h.duration_ms) / 1000.0, hour_note(h));
    } else {
      out += fmt::format("{:<14} {:<23} {:>3} {:>10} {:>10} {:>9} {:>13} {:>7} {:>13} {:>9}  {}\n",
                         h.window.label(), to_string(h.state), "-", "-", "-", "-", "-", "-", "-", "-",
                         hour_note(h));
    }
  }
  out += fmt::format("{:<14} {:<23} {:>3} {:>10} {:>10} {:>9} {:>13} {:>7} {:>13}\n", "total", "", "",
                     r.totals.events_read, r.totals.events_delivered, r.totals.events_rejected,
                     r.totals.events_undeliverable, r.clients.size(), r.bytes);
  out += fmt::format(
      "\nhours: {} complete, {} complete_undeliverable, {} in_progress, {} failed, {} missing; {} revised\n",
      r.count(HourState::kComplete), r.count(HourState::kCompleteUndeliverable),
      r.count(HourState::kInProgress), r.count(HourState::kFailed), r.count(HourState::kMissing),
      r.revised_hours());

  out += fmt::format("\n{:<24} {:>5} {:>12} {:>12} {:>13} {:>14}  {}\n", "client", "hours", "events",
                     "delivered", "undeliverable", "bytes", "undeliverable in");
  for (const ClientOverview& c : r.clients) {
    std::string when;
    for (const std::string& run : hour_runs(c.undeliverable_hours)) {
      if (!when.empty()) when += ", ";
      when += run;
    }
    out += fmt::format("{:<24} {:>5} {:>12} {:>12} {:>13} {:>14}  {}\n", c.client, c.hours, c.events,
                       c.events_delivered, c.events_undeliverable, c.bytes, when.empty() ? "-" : when);
  }
  out += fmt::format("\n{}\n", status_verdict(r));
  return out;
}

std::string render_status_json(const StatusReport& r) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("from").value(r.from.label());
  w.key("to").value(r.to.label());
  w.key("generated_at").value(format_iso8601_us(r.generated_at_us));
  w.key("ops_bucket").value(r.ops_bucket);
  w.key("exit_code").value(status_exit_code(r));
  w.key("verdict").value(status_verdict(r));
  w.key("hours_by_state").begin_object();
  for (const Named<HourState>& s : kHourStateNames)
    w.key(s.name).value(static_cast<std::uint64_t>(r.count(s.value)));
  w.end_object();
  w.key("hours_revised").value(static_cast<std::uint64_t>(r.revised_hours()));
  write_event_counts(w, r.totals);
  w.key("bytes").value(r.bytes);
  w.key("clients").value(static_cast<std::uint64_t>(r.clients.size()));
  w.key("hours").begin_array();
  for (const HourOverview& h : r.hours) {
    w.begin_object();
    w.key("hour").value(h.window.label());
    w.key("state").value(to_string(h.state));
    w.key("revised").value(h.revised());
    w.key("manifest").value(h.manifest_key);
    if (h.complete()) {
      w.key("revision").value(h.revision);
      w.key("reason").value(h.reason);
      w.key("generated_at").value(h.generated_at);
      write_event_counts(w, h.counts());
      w.key("clients").value(h.clients);
      w.key("bytes").value(h.bytes);
      w.key("duration_ms").value(h.duration_ms);
      w.key("undeliverable_clients").begin_array();
      for (const StatusObject& o : h.objects) {
        if (o.status == ObjectStatus::kUndeliverable) w.value(o.client);
      }
      w.end_array();
    }
    if (h.lock) {
      w.key("lock").begin_object();
      w.key("run_id").value(h.lock->run_id);
      w.key("holder").value(h.lock->holder);
      w.key("acquired_at").value(format_iso8601_us(h.lock->acquired_at_us));
      w.key("expires_at").value(format_iso8601_us(h.lock->expires_at_us));
      w.end_object();
    }
    if (!h.note.empty()) w.key("note").value(h.note);
    w.end_object();
  }
  w.end_array();
  w.key("client_totals").begin_array();
  for (const ClientOverview& c : r.clients) {
    w.begin_object();
    w.key("client").value(c.client);
    w.key("hours").value(c.hours);
    w.key("events").value(c.events);
    w.key("events_delivered").value(c.events_delivered);
    w.key("events_undeliverable").value(c.events_undeliverable);
    w.key("bytes").value(c.bytes);
    w.key("undeliverable_hours").begin_array();
    for (const HourWindow& h : c.undeliverable_hours) w.value(h.label());
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

std::string render_status(const StatusReport& report, StatusFormat format) {
  switch (format) {
    case StatusFormat::kTable:
      return render_status_table(report);
    case StatusFormat::kJson:
      return render_status_json(report);
    case StatusFormat::kHtml:
      return render_status_html(report);
  }
  return {};
}

}  // namespace es::exporter
