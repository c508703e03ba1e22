#include "export/scale_out/unit_manifest.h"

#include <cstring>

#include "core/json_reader.h"
#include "core/json_writer.h"

namespace es::exporter {
namespace {

void append_u32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}

Result<UnitRun> read_run(const json::Value& o) {
  UnitRun r;
  ES_ASSIGN_OR_RETURN(r.client, o.string("client"));
  ES_ASSIGN_OR_RETURN(r.key, o.string("key"));
  ES_ASSIGN_OR_RETURN(r.events, o.uint64("events"));
  ES_ASSIGN_OR_RETURN(r.body_bytes, o.uint64("body_bytes"));
  ES_ASSIGN_OR_RETURN(r.bytes, o.uint64("bytes"));
  ES_ASSIGN_OR_RETURN(r.sha256, o.string("sha256"));
  return r;
}

}  // namespace

std::string render_unit_manifest(const UnitManifest& m) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(m.window.label());
  w.key("plan_id").value(m.plan_id);
  w.key("unit").value(m.unit);
  w.key("events_read").value(m.events_read);
  w.key("items_scanned").value(m.items_scanned);
  w.key("out_of_window").value(m.out_of_window);
  w.key("pages").value(m.pages);
  w.key("consumed_capacity").value(m.consumed_capacity);
  w.key("rejected").value(m.rejected);
  w.key("rejected_key").value(m.rejected_key);
  w.key("rejected_bytes").value(m.rejected_bytes);
  w.key("rejected_sha256").value(m.rejected_sha256);
  w.key("requests").value(m.calls.requests);
  w.key("retries").value(m.calls.retries);
  w.key("throttles").value(m.calls.throttles);
  w.key("source").begin_object();
  w.key("events").value(m.source.events);
  w.key("digest").value(m.source.digest);
  w.end_object();
  w.key("runs").begin_array();
  for (const UnitRun& r : m.runs) {
    std::string line = "\n  ";
    json::Writer rw(line);
    rw.begin_object();
    rw.key("client").value(r.client);
    rw.key("key").value(r.key);
    rw.key("events").value(r.events);
    rw.key("body_bytes").value(r.body_bytes);
    rw.key("bytes").value(r.bytes);
    rw.key("sha256").value(r.sha256);
    rw.end_object();
    w.raw(line);
  }
  if (!m.runs.empty()) out += '\n';
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

Result<UnitManifest> parse_unit_manifest(std::string_view json) {
  ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(json, "unit manifest"));
  UnitManifest m;
  ES_ASSIGN_OR_RETURN(const json::Value hour, doc["hour"]);
  ES_ASSIGN_OR_RETURN(const std::string_view label, hour.string());
  auto window = HourWindow::parse_hour(label);
  if (!window.ok()) return hour.error(window.error().message);
  m.window = *window;
  ES_ASSIGN_OR_RETURN(m.plan_id, doc.string("plan_id"));
  ES_ASSIGN_OR_RETURN(const json::Value unit, doc["unit"]);
  ES_ASSIGN_OR_RETURN(const std::int64_t unit_number, unit.int64());
  if (unit_number < 0 || unit_number > 1'000'000) return unit.error("out of range");
  m.unit = static_cast<int>(unit_number);
  ES_ASSIGN_OR_RETURN(m.events_read, doc.uint64("events_read"));
  ES_ASSIGN_OR_RETURN(m.items_scanned, doc.uint64("items_scanned"));
  ES_ASSIGN_OR_RETURN(m.out_of_window, doc.uint64("out_of_window"));
  ES_ASSIGN_OR_RETURN(m.pages, doc.uint64("pages"));
  ES_ASSIGN_OR_RETURN(m.consumed_capacity, doc.number("consumed_capacity"));
  ES_ASSIGN_OR_RETURN(m.rejected, doc.uint64("rejected"));
  ES_ASSIGN_OR_RETURN(m.rejected_key, doc.string("rejected_key"));
  ES_ASSIGN_OR_RETURN(m.rejected_bytes, doc.uint64("rejected_bytes"));
  ES_ASSIGN_OR_RETURN(m.rejected_sha256, doc.string("rejected_sha256"));
  ES_ASSIGN_OR_RETURN(m.calls.requests, doc.uint64("requests"));
  ES_ASSIGN_OR_RETURN(m.calls.retries, doc.uint64("retries"));
  ES_ASSIGN_OR_RETURN(m.calls.throttles, doc.uint64("throttles"));
  ES_ASSIGN_OR_RETURN(const std::optional<json::Value> source, doc.optional("source"));
  if (source) {
    ES_ASSIGN_OR_RETURN(m.source.events, source->uint64("events"));
    ES_ASSIGN_OR_RETURN(m.source.digest, source->string("digest"));
  }
  ES_ASSIGN_OR_RETURN(const std::vector<json::Value> runs, doc.array("runs"));
  m.runs.reserve(runs.size());
  for (const json::Value& o : runs) {
    ES_ASSIGN_OR_RETURN(UnitRun r, read_run(o));
    m.runs.push_back(std::move(r));
  }
  return m;
}

std::string encode_rejected(const std::vector<RejectedEvent>& rejected) {
  std::string out;
  for (const RejectedEvent& r : rejected) {
    for (const std::string* field : {&r.reason, &r.message, &r.event_id, &r.client_id, &r.item}) {
      append_u32(out, static_cast<std::uint32_t>(field->size()));
      out += *field;
    }
  }
  return out;
}

Result<std::vector<RejectedEvent>> decode_rejected(std::string_view bytes) {
  std::vector<RejectedEvent> out;
  while (!bytes.empty()) {
    RejectedEvent r;
    for (std::string* field : {&r.reason, &r.message, &r.event_id, &r.client_id, &r.item}) {
      std::uint32_t n = 0;
      if (bytes.size() < 4) return Error::invalid_data("rejected part", "truncated length");
      std::memcpy(&n, bytes.data(), 4);
      bytes.remove_prefix(4);
      if (bytes.size() < n) return Error::invalid_data("rejected part", "truncated field");
      *field = std::string(bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace es::exporter
