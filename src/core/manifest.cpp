#include "core/manifest.h"

#include <fmt/format.h>

#include "core/json_reader.h"
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
  ow.key("status").value(to_string(o.status));
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
  w.key("read_mode").value(to_string(m.read_mode));
  w.key("format").value(to_string(m.format));
  w.key("compression").value(to_string(m.compression));
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

Result<ManifestObject> read_object(const json::Value& o) {
  ManifestObject mo;
  ES_ASSIGN_OR_RETURN(mo.client, o.string("client"));
  ES_ASSIGN_OR_RETURN(mo.bucket, o.string("bucket"));
  ES_ASSIGN_OR_RETURN(mo.key, o.string("key"));
  ES_ASSIGN_OR_RETURN(mo.status, o.named("status", kObjectStatusNames));
  ES_ASSIGN_OR_RETURN(mo.events, o.uint64("events"));
  ES_ASSIGN_OR_RETURN(mo.bytes, o.uint64("bytes"));
  ES_ASSIGN_OR_RETURN(mo.sha256, o.string("sha256"));
  ES_ASSIGN_OR_RETURN(mo.min_time_us, o.instant("min_time"));
  ES_ASSIGN_OR_RETURN(mo.max_time_us, o.instant("max_time"));
  ES_ASSIGN_OR_RETURN(mo.error, o.string_or_empty("error"));
  ES_ASSIGN_OR_RETURN(mo.undeliverable_key, o.string_or_empty("undeliverable_key"));
  return mo;
}

/// The exact names of a traits table's values (format, compression).
template <typename E>
Result<E> read_traits_name(const json::Value& doc, std::string_view field,
                           std::optional<E> (*named)(std::string_view), std::string (*names)()) {
  ES_ASSIGN_OR_RETURN(const json::Value v, doc[field]);
  ES_ASSIGN_OR_RETURN(const std::string_view name, v.string());
  if (auto value = named(name)) return *value;
  return v.error(fmt::format("'{}' is not one of {}", name, names()));
}

}  // namespace

Result<ManifestObject> parse_manifest_object(std::string_view json) {
  ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(json, "manifest object"));
  return read_object(doc);
}

Result<Manifest> parse_manifest(std::string_view json) {
  ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(json, "manifest"));
  Manifest m;
  ES_ASSIGN_OR_RETURN(const json::Value window, doc["window"]);
  ES_ASSIGN_OR_RETURN(const std::string_view hour, window.string("hour"));
  auto parsed_hour = HourWindow::parse_hour(hour);
  if (!parsed_hour.ok()) return window.error(fmt::format("hour: {}", parsed_hour.error().message));
  m.window = *parsed_hour;
  ES_ASSIGN_OR_RETURN(m.table, doc.string("table"));
  ES_ASSIGN_OR_RETURN(m.read_mode, doc.named("read_mode", kReadModeNames));
  ES_ASSIGN_OR_RETURN(m.format, read_traits_name(doc, "format", output_format_named, output_format_names));
  ES_ASSIGN_OR_RETURN(m.compression,
                      read_traits_name(doc, "compression", compression_named, compression_names));
  ES_ASSIGN_OR_RETURN(m.events_read, doc.uint64("events_read"));
  ES_ASSIGN_OR_RETURN(m.events_delivered, doc.uint64("events_delivered"));
  ES_ASSIGN_OR_RETURN(m.events_rejected, doc.uint64("events_rejected"));
  ES_ASSIGN_OR_RETURN(m.events_undeliverable, doc.uint64("events_undeliverable"));
  ES_ASSIGN_OR_RETURN(m.rejected_key, doc.string("rejected_key"));
  ES_ASSIGN_OR_RETURN(const std::vector<json::Value> objects, doc.array("objects"));
  for (const json::Value& o : objects) {
    ES_ASSIGN_OR_RETURN(ManifestObject mo, read_object(o));
    m.objects.push_back(std::move(mo));
  }
  ES_ASSIGN_OR_RETURN(m.duration_ms, doc.int64("duration_ms"));
  ES_ASSIGN_OR_RETURN(m.version, doc.string("version"));
  ES_ASSIGN_OR_RETURN(m.generated_at, doc.string("generated_at"));
  return m;
}

}  // namespace es
