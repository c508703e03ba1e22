#include "export/summary.h"

#include <algorithm>
#include <set>

#include "core/json_writer.h"

namespace es::exporter {

std::uint64_t RunSummary::events_read() const {
  std::uint64_t n = 0;
  for (const auto& h : hours) n += h.events_read;
  return n;
}

std::uint64_t RunSummary::events_undeliverable() const {
  std::uint64_t n = 0;
  for (const auto& h : hours) n += h.events_undeliverable;
  return n;
}

bool RunSummary::any_failed() const {
  return std::any_of(hours.begin(), hours.end(), [](const HourReport& h) { return h.status == "failed"; });
}

std::string render_summary(const RunSummary& s) {
  HourReport total;
  std::set<std::string> clients;
  int exported = 0;
  int skipped = 0;
  int failed = 0;
  for (const HourReport& h : s.hours) {
    total.events_read += h.events_read;
    total.events_delivered += h.events_delivered;
    total.events_rejected += h.events_rejected;
    total.events_undeliverable += h.events_undeliverable;
    total.objects += h.objects;
    total.bytes += h.bytes;
    total.items_scanned += h.items_scanned;
    total.consumed_capacity += h.consumed_capacity;
    total.requests += h.requests;
    total.retries += h.retries;
    total.throttles += h.throttles;
    for (const auto& o : h.objects_detail) clients.insert(o.client);
    if (h.status == "skipped")
      ++skipped;
    else if (h.status == "failed")
      ++failed;
    else
      ++exported;
  }
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("events_read").value(total.events_read);
  w.key("events_delivered").value(total.events_delivered);
  w.key("events_rejected").value(total.events_rejected);
  w.key("events_undeliverable").value(total.events_undeliverable);
  w.key("clients").value(static_cast<std::uint64_t>(clients.size()));
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
  w.key("hours_exported").value(exported);
  w.key("hours_skipped").value(skipped);
  w.key("hours_failed").value(failed);
  w.key("hours").begin_array();
  for (const HourReport& h : s.hours) {
    w.begin_object();
    w.key("hour").value(h.window.label());
    w.key("status").value(h.status);
    w.key("events_read").value(h.events_read);
    w.key("events_delivered").value(h.events_delivered);
    w.key("events_rejected").value(h.events_rejected);
    w.key("events_undeliverable").value(h.events_undeliverable);
    w.key("clients").value(h.clients);
    w.key("objects").value(h.objects);
    w.key("bytes").value(h.bytes);
    w.key("items_scanned").value(h.items_scanned);
    w.key("out_of_window").value(h.out_of_window);
    w.key("duration_ms").value(h.duration_ms);
    if (!h.manifest_key.empty()) w.key("manifest").value(h.manifest_key);
    if (!h.error.empty()) w.key("error").value(h.error);
    if (!h.objects_detail.empty()) {
      w.key("objects_detail").begin_array();
      for (const auto& o : h.objects_detail) {
        w.begin_object();
        w.key("client").value(o.client);
        w.key("status").value(o.status);
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
