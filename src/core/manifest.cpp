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
  if (!o.version_id.empty()) ow.key("version_id").value(o.version_id);
  if (!o.delivered_at.empty()) ow.key("delivered_at").value(o.delivered_at);
  if (o.source_events) ow.key("source_events").value(*o.source_events);
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
  w.key("revision").value(m.revision);
  w.key("reason").value(to_string(m.reason));
  w.key("table").value(m.table);
  w.key("source_table").begin_object();
  w.key("arn").value(m.table_detail.arn);
  w.key("region").value(m.table_detail.region);
  w.key("account").value(m.table_detail.account);
  w.end_object();
  w.key("source").begin_object();
  w.key("events").value(m.source.events);
  w.key("digest").value(m.source.digest);
  w.end_object();
  w.key("read_mode").value(to_string(m.read_mode));
  w.key("format").value(to_string(m.format));
  w.key("compression").value(to_string(m.compression));
  write_event_counts(w, m.counts());
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
  w.key("history").begin_array();
  for (const ManifestRevision& r : m.history) {
    std::string line = "\n  ";
    json::Writer hw(line);
    hw.begin_object();
    hw.key("revision").value(r.revision);
    hw.key("reason").value(to_string(r.reason));
    hw.key("sha256").value(r.sha256);
    hw.key("generated_at").value(r.generated_at);
    hw.key("run_id").value(r.run_id);
    write_event_counts(hw, r.counts());
    hw.end_object();
    w.raw(line);
  }
  if (!m.history.empty()) out += "\n";
  w.end_array();
  w.key("duration_ms").value(m.duration_ms);
  w.key("version").value(m.version);
  w.key("git_commit").value(m.git_commit);
  w.key("run_id").value(m.run_id);
  w.key("settings_hash").value(m.settings_hash);
  w.key("generated_at").value(m.generated_at);
  w.end_object();
  out += '\n';
  return out;
}

bool Manifest::has_undeliverable() const {
  for (const ManifestObject& o : objects) {
    if (o.status == ObjectStatus::kUndeliverable) return true;
  }
  return false;
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
  ES_ASSIGN_OR_RETURN(mo.version_id, o.string_or_empty("version_id"));
  ES_ASSIGN_OR_RETURN(mo.delivered_at, o.string_or_empty("delivered_at"));
  ES_ASSIGN_OR_RETURN(const std::optional<json::Value> source_events, o.optional("source_events"));
  if (source_events) {
    ES_ASSIGN_OR_RETURN(const std::uint64_t n, source_events->uint64());
    mo.source_events = n;
  }
  return mo;
}

Result<ManifestRevision> read_revision(const json::Value& r) {
  ManifestRevision rev;
  ES_ASSIGN_OR_RETURN(rev.revision, r.uint64("revision"));
  ES_ASSIGN_OR_RETURN(rev.reason, r.named("reason", kRevisionReasonNames));
  ES_ASSIGN_OR_RETURN(rev.sha256, r.string("sha256"));
  ES_ASSIGN_OR_RETURN(rev.generated_at, r.string("generated_at"));
  ES_ASSIGN_OR_RETURN(rev.run_id, r.string_or_empty("run_id"));
  ES_ASSIGN_OR_RETURN(rev.counts(), read_event_counts(r));
  return rev;
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
  // Manifests written before revisions existed have none of these: they are revision 1, first export.
  if (doc.has("revision")) {
    ES_ASSIGN_OR_RETURN(m.revision, doc.uint64("revision"));
    if (m.revision == 0) return doc.error("revision: 0 (revisions count from 1)");
    ES_ASSIGN_OR_RETURN(m.reason, doc.named("reason", kRevisionReasonNames));
  }
  ES_ASSIGN_OR_RETURN(m.table, doc.string("table"));
  m.table_detail.name = m.table;
  ES_ASSIGN_OR_RETURN(const std::optional<json::Value> table, doc.optional("source_table"));
  if (table) {
    ES_ASSIGN_OR_RETURN(m.table_detail.arn, table->string_or_empty("arn"));
    ES_ASSIGN_OR_RETURN(m.table_detail.region, table->string_or_empty("region"));
    ES_ASSIGN_OR_RETURN(m.table_detail.account, table->string_or_empty("account"));
  }
  ES_ASSIGN_OR_RETURN(const std::optional<json::Value> source, doc.optional("source"));
  if (source) {
    ES_ASSIGN_OR_RETURN(m.source.events, source->uint64("events"));
    ES_ASSIGN_OR_RETURN(m.source.digest, source->string("digest"));
  }
  ES_ASSIGN_OR_RETURN(m.read_mode, doc.named("read_mode", kReadModeNames));
  ES_ASSIGN_OR_RETURN(m.format, read_traits_name(doc, "format", output_format_named, output_format_names));
  ES_ASSIGN_OR_RETURN(m.compression,
                      read_traits_name(doc, "compression", compression_named, compression_names));
  ES_ASSIGN_OR_RETURN(m.counts(), read_event_counts(doc));
  ES_ASSIGN_OR_RETURN(m.rejected_key, doc.string("rejected_key"));
  ES_ASSIGN_OR_RETURN(const std::vector<json::Value> objects, doc.array("objects"));
  for (const json::Value& o : objects) {
    ES_ASSIGN_OR_RETURN(ManifestObject mo, read_object(o));
    m.objects.push_back(std::move(mo));
  }
  ES_ASSIGN_OR_RETURN(const std::optional<json::Value> history, doc.optional("history"));
  if (history) {
    ES_ASSIGN_OR_RETURN(const std::vector<json::Value> revisions, history->array());
    for (const json::Value& r : revisions) {
      ES_ASSIGN_OR_RETURN(ManifestRevision rev, read_revision(r));
      m.history.push_back(std::move(rev));
    }
  }
  ES_ASSIGN_OR_RETURN(m.duration_ms, doc.int64("duration_ms"));
  ES_ASSIGN_OR_RETURN(m.version, doc.string("version"));
  ES_ASSIGN_OR_RETURN(m.git_commit, doc.string_or_empty("git_commit"));
  ES_ASSIGN_OR_RETURN(m.run_id, doc.string_or_empty("run_id"));
  ES_ASSIGN_OR_RETURN(m.settings_hash, doc.string_or_empty("settings_hash"));
  ES_ASSIGN_OR_RETURN(m.generated_at, doc.string("generated_at"));
  return m;
}

}  // namespace es
