#include "core/manifest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "core/json_writer.h"

namespace es {

std::string manifest_key(const HourWindow& window) {
  return fmt::format("manifests/{}.json", window.manifest_path_part());
}

std::string render_manifest_object(const ManifestObject& o) {
  std::string out;
  json::Writer ow(out);
  ow.begin_object();
  ow.key("client").value(o.client);
  ow.key("bucket").value(o.bucket);
  ow.key("key").value(o.key);
  ow.key("status").value(o.status);
  ow.key("events").value(o.events);
  ow.key("bytes").value(o.bytes);
  ow.key("sha256").value(o.sha256);
  ow.key("min_time").value(format_iso8601_us(o.min_time_us));
  ow.key("max_time").value(format_iso8601_us(o.max_time_us));
  if (!o.error.empty()) ow.key("error").value(o.error);
  if (!o.undeliverable_key.empty()) ow.key("undeliverable_key").value(o.undeliverable_key);
  ow.end_object();
  return out;
}

std::string render_manifest(const Manifest& m) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("window").begin_object();
  w.key("hour").value(m.window.label());
  w.key("start").value(format_iso8601_us(m.window.start_us));
  w.key("end").value(format_iso8601_us(m.window.end_us()));
  w.end_object();
  w.key("table").value(m.table);
  w.key("read_mode").value(m.read_mode);
  w.key("format").value(m.format);
  w.key("compression").value(m.compression);
  w.key("events_read").value(m.events_read);
  w.key("events_delivered").value(m.events_delivered);
  w.key("events_rejected").value(m.events_rejected);
  w.key("events_undeliverable").value(m.events_undeliverable);
  w.key("rejected_key").value(m.rejected_key);
  w.key("objects").begin_array();
  for (const ManifestObject& o : m.objects) {
    // One object per line: readable in the console, still one JSON document.
    std::string line = "\n  ";
    line += render_manifest_object(o);
    w.raw(line);
  }
  if (!m.objects.empty()) out += "\n";
  w.end_array();
  w.key("duration_ms").value(m.duration_ms);
  w.key("version").value(m.version);
  w.key("generated_at").value(m.generated_at);
  w.end_object();
  out += '\n';
  return out;
}

namespace {

Error field_error(std::string_view field, simdjson::error_code err) {
  return Error::invalid_data("manifest", fmt::format("field '{}': {}", field, simdjson::error_message(err)));
}

template <typename T>
Status read(simdjson::dom::element e, std::string_view field, T& out) {
  if (auto err = e[field].get(out)) return field_error(field, err);
  return ok_status();
}

Status read_string(simdjson::dom::element e, std::string_view field, std::string& out) {
  std::string_view v;
  ES_TRY(read(e, field, v));
  out = std::string(v);
  return ok_status();
}

Status read_time(simdjson::dom::element e, std::string_view field, std::int64_t& out) {
  std::string_view v;
  ES_TRY(read(e, field, v));
  ES_ASSIGN_OR_RETURN(out, parse_iso8601_us(v));
  return ok_status();
}

Status read_object(simdjson::dom::element o, ManifestObject& mo) {
  ES_TRY(read_string(o, "client", mo.client));
  ES_TRY(read_string(o, "bucket", mo.bucket));
  ES_TRY(read_string(o, "key", mo.key));
  ES_TRY(read_string(o, "status", mo.status));
  ES_TRY(read(o, "events", mo.events));
  ES_TRY(read(o, "bytes", mo.bytes));
  ES_TRY(read_string(o, "sha256", mo.sha256));
  ES_TRY(read_time(o, "min_time", mo.min_time_us));
  ES_TRY(read_time(o, "max_time", mo.max_time_us));
  std::string_view v;
  if (o["error"].get(v) == simdjson::SUCCESS) mo.error = std::string(v);
  if (o["undeliverable_key"].get(v) == simdjson::SUCCESS) mo.undeliverable_key = std::string(v);
  return ok_status();
}

}  // namespace

Result<ManifestObject> parse_manifest_object(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc)) return field_error("(document)", err);
  ManifestObject mo;
  ES_TRY(read_object(doc, mo));
  return mo;
}

Result<Manifest> parse_manifest(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc)) return field_error("(document)", err);
  Manifest m;
  std::string_view hour;
  ES_TRY(read(doc["window"], "hour", hour));
  ES_ASSIGN_OR_RETURN(m.window, HourWindow::parse_hour(hour));
  ES_TRY(read_string(doc, "table", m.table));
  ES_TRY(read_string(doc, "read_mode", m.read_mode));
  ES_TRY(read_string(doc, "format", m.format));
  ES_TRY(read_string(doc, "compression", m.compression));
  ES_TRY(read(doc, "events_read", m.events_read));
  ES_TRY(read(doc, "events_delivered", m.events_delivered));
  ES_TRY(read(doc, "events_rejected", m.events_rejected));
  ES_TRY(read(doc, "events_undeliverable", m.events_undeliverable));
  ES_TRY(read_string(doc, "rejected_key", m.rejected_key));
  simdjson::dom::array objects;
  if (auto err = doc["objects"].get(objects)) return field_error("objects", err);
  for (simdjson::dom::element o : objects) {
    ManifestObject mo;
    ES_TRY(read_object(o, mo));
    m.objects.push_back(std::move(mo));
  }
  ES_TRY(read(doc, "duration_ms", m.duration_ms));
  ES_TRY(read_string(doc, "version", m.version));
  ES_TRY(read_string(doc, "generated_at", m.generated_at));
  return m;
}

}  // namespace es
