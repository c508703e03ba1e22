#include "export/scale_out/plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_reader.h"
#include "core/json_writer.h"

namespace es::exporter {
namespace {

/// An int field (units, segments, shards).
Result<int> read_int(const json::Value& doc, std::string_view field) {
  ES_ASSIGN_OR_RETURN(const json::Value v, doc[field]);
  ES_ASSIGN_OR_RETURN(const std::int64_t n, v.int64());
  if (n < 0 || n > 1'000'000) return v.error(fmt::format("{} is out of range", n));
  return static_cast<int>(n);
}

}  // namespace

std::vector<int> Plan::unit_parts(int unit) const {
  std::vector<int> parts;
  if (read_mode == ReadMode::kQuery) {
    for (int s = unit; s < shards; s += units) parts.push_back(s);
  } else {
    const int per_unit = total_segments / units;
    for (int s = unit * per_unit; s < (unit + 1) * per_unit; ++s) parts.push_back(s);
  }
  return parts;
}

Result<Plan> make_plan(const ExportConfig& config, const HourWindow& window, int workers,
                       std::int64_t now_us) {
  if (workers < 1 || workers > 10000) {
    return Error::invalid_argument("--workers", fmt::format("is {}; give 1 to 10000", workers))
        .with_context("config");
  }
  Plan plan;
  plan.window = window;
  plan.read_mode = config.read_mode;
  plan.table = config.table;
  plan.format = std::string(to_string(config.format));
  plan.compression = std::string(to_string(config.compression));
  if (config.read_mode == ReadMode::kQuery) {
    plan.shards = config.shards;
    plan.units = std::min(workers, config.shards);
  } else {
    plan.units = workers;
    plan.total_segments = workers * std::max(config.segments, 1);
  }
  plan.created_us = now_us;
  // The id covers everything that decides what a unit reads and writes, not when it was planned:
  // planning the same hour the same way again keeps the units already done.
  plan.id = hex_encode(sha256(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", window.label(), plan.units,
                                          to_string(plan.read_mode), plan.total_segments, plan.shards,
                                          plan.table, plan.format, plan.compression)))
                .substr(0, 16);
  return plan;
}

std::string render_plan(const Plan& plan) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(plan.window.label());
  w.key("plan_id").value(plan.id);
  w.key("units").value(plan.units);
  w.key("read_mode").value(to_string(plan.read_mode));
  w.key("total_segments").value(plan.total_segments);
  w.key("shards").value(plan.shards);
  w.key("table").value(plan.table);
  w.key("format").value(plan.format);
  w.key("compression").value(plan.compression);
  w.key("created_at").value(format_iso8601_us(plan.created_us));
  if (!plan.lease_run_id.empty()) w.key("lease_run_id").value(plan.lease_run_id);
  w.end_object();
  out += '\n';
  return out;
}

Result<Plan> parse_plan(std::string_view json) {
  ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(json, "plan"));
  Plan plan;
  ES_ASSIGN_OR_RETURN(const json::Value hour, doc["hour"]);
  ES_ASSIGN_OR_RETURN(const std::string_view label, hour.string());
  auto window = HourWindow::parse_hour(label);
  if (!window.ok()) return hour.error(window.error().message);
  plan.window = *window;
  ES_ASSIGN_OR_RETURN(plan.id, doc.string("plan_id"));
  ES_ASSIGN_OR_RETURN(plan.units, read_int(doc, "units"));
  ES_ASSIGN_OR_RETURN(plan.read_mode, doc.named("read_mode", kReadModeNames));
  ES_ASSIGN_OR_RETURN(plan.total_segments, read_int(doc, "total_segments"));
  ES_ASSIGN_OR_RETURN(plan.shards, read_int(doc, "shards"));
  ES_ASSIGN_OR_RETURN(plan.table, doc.string("table"));
  ES_ASSIGN_OR_RETURN(plan.format, doc.string("format"));
  ES_ASSIGN_OR_RETURN(plan.compression, doc.string("compression"));
  ES_ASSIGN_OR_RETURN(plan.created_us, doc.instant("created_at"));
  ES_ASSIGN_OR_RETURN(plan.lease_run_id, doc.string_or_empty("lease_run_id"));
  if (plan.units < 1 || (plan.read_mode != ReadMode::kQuery && plan.total_segments % plan.units != 0)) {
    return Error::invalid_data(
        "plan", fmt::format("{} units do not divide {} segments", plan.units, plan.total_segments));
  }
  return plan;
}

}  // namespace es::exporter
