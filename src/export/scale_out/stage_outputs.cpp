// The JSON the stages answer with, and the merge results finish reads.

#include <fmt/format.h>

#include "core/json_reader.h"
#include "core/json_writer.h"
#include "export/scale_out/stages.h"
#include "export/scale_out/staging.h"

namespace es::exporter {

std::string render_plan_output(const PlanResult& result) {
  const Plan& plan = result.plan;
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(plan.window.label());
  const bool nothing_to_do = result.complete || result.leased;
  w.key("complete").value(result.complete);
  w.key("leased").value(result.leased);
  if (result.leased) {
    w.key("leased_by").value(result.leased_by);
    w.key("leased_until").value(format_iso8601_us(result.leased_until_us));
  }
  w.key("plan_id").value(plan.id);
  w.key("workers").value(nothing_to_do ? 0 : plan.units);
  w.key("plan_key").value(plan_key(plan.window));
  w.key("units").begin_array();
  if (!nothing_to_do) {
    for (int u = 0; u < plan.units; ++u) {
      w.begin_object();
      w.key("stage").value("work");
      w.key("hour").value(plan.window.label());
      w.key("unit").value(u);
      w.end_object();
    }
  }
  w.end_array();
  w.end_object();
  return out;
}

std::string render_clients_output(const HourWindow& window, std::size_t clients, std::string_view bucket) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(window.label());
  w.key("clients").value(static_cast<std::uint64_t>(clients));
  w.key("items_bucket").value(bucket);
  w.key("items_key").value(clients_key(window));
  w.end_object();
  return out;
}

std::string render_merge_items(const HourWindow& window, const std::vector<std::string>& clients) {
  std::string items = "[";
  for (std::size_t i = 0; i < clients.size(); ++i) {
    items += i == 0 ? "\n" : ",\n";
    json::Writer w(items);
    w.begin_object();
    w.key("stage").value("merge");
    w.key("hour").value(window.label());
    w.key("client").value(clients[i]);
    w.end_object();
  }
  items += clients.empty() ? "]\n" : "\n]\n";
  return items;
}

std::string render_merge_result(const MergeResult& result) {
  std::string text;
  json::Writer w(text);
  w.begin_object();
  w.key("requests").value(result.calls.requests);
  w.key("retries").value(result.calls.retries);
  w.key("throttles").value(result.calls.throttles);
  w.key("object").raw(render_manifest_object(result.object));
  w.end_object();
  text += '\n';
  return text;
}

Result<MergeResult> parse_merge_result(std::string_view json) {
  ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(json, "merge result"));
  MergeResult result;
  ES_ASSIGN_OR_RETURN(result.calls.requests, doc.uint64("requests"));
  ES_ASSIGN_OR_RETURN(result.calls.retries, doc.uint64("retries"));
  ES_ASSIGN_OR_RETURN(result.calls.throttles, doc.uint64("throttles"));
  ES_ASSIGN_OR_RETURN(const json::Value object, doc["object"]);
  if (!object.is_object()) return object.error("expected an object");
  // The object is render_manifest_object's text, written last by render_merge_result: it is read
  // back by the manifest's own reader.
  constexpr std::string_view kObjectKey = R"("object":)";
  const std::size_t begin = json.find(kObjectKey);
  const std::size_t end = json.rfind('}');
  if (begin == std::string_view::npos || end == std::string_view::npos || end <= begin) {
    return object.error("not where render_merge_result writes it");
  }
  const std::size_t from = begin + kObjectKey.size();
  ES_ASSIGN_OR_RETURN(result.object, parse_manifest_object(json.substr(from, end - from)));
  return result;
}

}  // namespace es::exporter
