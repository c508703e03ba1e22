#include "export/summary.h"

#include <algorithm>
#include <set>

#include "core/json_writer.h"

namespace es::exporter {

std::uint64_t RunSummary::events_read() const {
  return totals().events_read;
}

std::uint64_t RunSummary::events_undeliverable() const {
  return totals().events_undeliverable;
}

bool RunSummary::any_failed() const {
  return std::any_of(hours.begin(), hours.end(), [](const HourReport& h) {
    return h.status == HourStatus::kFailed || (h.status == HourStatus::kStopped && h.handed_off_to.empty());
  });
}

RunTotals RunSummary::totals() const {
  RunTotals total;
  std::set<std::string_view> clients;
  for (const HourReport& h : hours) {
    total += h.counts();
    total.objects += h.objects;
    total.bytes += h.bytes;
    total.items_scanned += h.items_scanned;
    total.consumed_capacity += h.consumed_capacity;
    total.requests += h.requests;
    total.retries += h.retries;
    total.throttles += h.throttles;
    for (const auto& o : h.objects_detail) clients.insert(o.client);
    total.source_shrank += h.source_shrank.size();
    total.redelivered += h.redelivered;
    if (h.status == HourStatus::kSkipped) {
      ++total.hours_skipped;
    } else if (h.status == HourStatus::kLeased) {
      ++total.hours_leased;
    } else if (h.status == HourStatus::kFailed) {
      ++total.hours_failed;
    } else if (h.status == HourStatus::kStopped) {
      ++total.hours_stopped;
    } else {
      ++total.hours_exported;
    }
  }
  total.clients = clients.size();
  return total;
}

std::string render_summary(const RunSummary& s) {
  const RunTotals total = s.totals();
  std::string out;
  json::Writer w(out);
  w.begin_object();
  if (!s.run_id.empty()) w.key("run_id").value(s.run_id);
  write_event_counts(w, total.counts());
  w.key("clients").value(total.clients);
  w.key("objects").value(total.objects);
  w.key("bytes").value(total.bytes);
  w.key("duration_ms").value(s.duration_ms);
  const double seconds = static_cast<double>(std::max<std::int64_t>(s.duration_ms, 1)) / 1000.0;
  w.key("events_per_second")
      .value(static_cast<std::uint64_t>(static_cast<double>(total.events_read) / seconds));
  w.key("items_scanned").value(total.items_scanned);
  w.key("consumed_read_capacity").value(total.consumed_capacity);
  w.key("requests").value(total.requests);
  w.key("retries").value(total.retries);
  w.key("throttles").value(total.throttles);
  if (s.peak_rss_bytes > 0) w.key("peak_rss_bytes").value(s.peak_rss_bytes);
  w.key("dry_run").value(s.dry_run);
  w.key("hours_exported").value(total.hours_exported);
  w.key("hours_skipped").value(total.hours_skipped);
  w.key("hours_leased").value(total.hours_leased);
  w.key("hours_failed").value(total.hours_failed);
  w.key("hours_stopped").value(total.hours_stopped);
  w.key("source_shrank").value(total.source_shrank);
  w.key("redelivered").value(total.redelivered);
  w.key("hours").begin_array();
  for (const HourReport& h : s.hours) {
    w.begin_object();
    w.key("hour").value(h.window.label());
    w.key("status").value(to_string(h.status));
    write_event_counts(w, h.counts());
    w.key("clients").value(h.clients);
    w.key("objects").value(h.objects);
    w.key("bytes").value(h.bytes);
    w.key("items_scanned").value(h.items_scanned);
    w.key("out_of_window").value(h.out_of_window);
    w.key("duration_ms").value(h.duration_ms);
    if (!h.manifest_key.empty()) w.key("manifest").value(h.manifest_key);
    if (h.revision > 0) {
      w.key("revision").value(h.revision);
      if (h.status != HourStatus::kSkipped) w.key("reason").value(to_string(h.reason));
    }
    if (!h.skip_reason.empty()) w.key("skip_reason").value(h.skip_reason);
    if (h.redelivered > 0) w.key("redelivered").value(h.redelivered);
    if (!h.source_shrank.empty()) {
      w.key("source_shrank").begin_array();
      for (const std::string& client : h.source_shrank) w.value(client);
      w.end_array();
    }
    if (!h.error.empty()) w.key("error").value(h.error);
    if (!h.handed_off_to.empty()) w.key("handed_off_to").value(h.handed_off_to);
    if (h.status == HourStatus::kLeased) {
      w.key("leased_by").value(h.leased_by);
      w.key("leased_until").value(format_iso8601_us(h.leased_until_us));
    }
    if (!h.objects_detail.empty()) {
      w.key("objects_detail").begin_array();
      for (const auto& o : h.objects_detail) {
        w.begin_object();
        w.key("client").value(o.client);
        w.key("status").value(to_string(o.status));
        w.key("bucket").value(o.bucket);
        w.key("key").value(o.key);
        w.key("events").value(o.events);
        w.key("bytes").value(o.bytes);
        if (!o.error.empty()) w.key("error").value(o.error);
        w.end_object();
      }
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

int exit_code(const RunSummary& s) {
  if (s.any_failed()) return 1;
  if (s.events_undeliverable() > 0) return 3;
  return 0;
}

}  // namespace es::exporter
