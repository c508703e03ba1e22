// The inputs a stage reads before it starts: the plan (checked against this run's settings), every
// unit manifest of that plan, the merge results. A missing one is kStageNotReady naming what to run.

#include <fmt/format.h>

#include "export/scale_out/stages.h"
#include "export/scale_out/staging.h"

namespace es::exporter {
namespace {

Error stage_not_ready(const HourWindow& window, std::string message) {
  Error e = Error::invalid_argument(window.label(), std::move(message));
  e.kind = ErrorKind::kNotFound;
  e.code = std::string(kStageNotReady);
  return std::move(e).with_context("scale-out");
}

bool missing(const Error& e) {
  return e.kind == ErrorKind::kNotFound && e.code != "NoSuchBucket";
}

}  // namespace

Result<Plan> ScaleOut::read_plan(const HourWindow& window, ObjectStore& store) {
  const ExportConfig& config = exporter_.config();
  auto got = store.get(config.ops_bucket, plan_key(window));
  if (!got.ok()) {
    if (missing(got.error())) {
      return stage_not_ready(window,
                             fmt::format("no plan at s3://{}/{}: run `eaglesense plan --hour {}` first",
                                         config.ops_bucket, plan_key(window), window.label()));
    }
    return std::move(got).error();
  }
  ES_ASSIGN_OR_RETURN(Plan plan, parse_plan(got->body));
  // The stages must agree with the plan on what they read and write.
  const std::pair<std::string_view, std::pair<std::string_view, std::string>> checks[] = {
      {"DYNAMODB_TABLE_NAME", {plan.table, config.table}},
      {"EAGLESENSE_READ_MODE", {to_string(plan.read_mode), std::string(to_string(config.read_mode))}},
      {"OUTPUT_FORMAT", {plan.format, std::string(to_string(config.format))}},
      {"EAGLESENSE_COMPRESSION", {plan.compression, std::string(to_string(config.compression))}},
  };
  for (const auto& [setting, values] : checks) {
    if (values.first != values.second) {
      return Error::invalid_argument(
                 std::string(setting),
                 fmt::format("is '{}' but the plan of {} says '{}'; plan again or use the "
                             "plan's setting",
                             values.second, window.label(), values.first))
          .with_context("config");
    }
  }
  return plan;
}

Result<ScaleOut::Inputs> ScaleOut::read_inputs(const HourWindow& window, ObjectStore& store) {
  const ExportConfig& config = exporter_.config();
  Inputs in;
  ES_ASSIGN_OR_RETURN(in.plan, read_plan(window, store));
  in.units.reserve(static_cast<std::size_t>(in.plan.units));
  for (int u = 0; u < in.plan.units; ++u) {
    auto got = store.get(config.ops_bucket, unit_manifest_key(window, u));
    if (!got.ok()) {
      if (missing(got.error())) {
        return stage_not_ready(window, fmt::format("unit {} of {} has no unit manifest yet (s3://{}/{}): run "
                                                   "`eaglesense work --hour {} --unit {}`",
                                                   u, in.plan.units, config.ops_bucket,
                                                   unit_manifest_key(window, u), window.label(), u));
      }
      return std::move(got).error();
    }
    ES_ASSIGN_OR_RETURN(UnitManifest m, parse_unit_manifest(got->body));
    if (m.plan_id != in.plan.id || m.unit != u) {
      return stage_not_ready(window,
                             fmt::format("the manifest of unit {} belongs to plan {}, not to the current "
                                         "plan {}: run `eaglesense work --hour {} --unit {}` again",
                                         u, m.plan_id, in.plan.id, window.label(), u));
    }
    in.units.push_back(std::move(m));
  }
  return in;
}

Result<std::vector<MergeResult>> ScaleOut::read_merged(const HourWindow& window, ObjectStore& store,
                                                       const std::vector<std::string>& clients) {
  const ExportConfig& config = exporter_.config();
  std::vector<MergeResult> merged;
  merged.reserve(clients.size());
  for (const std::string& client : clients) {
    auto got = store.get(config.ops_bucket, merged_key(window, client));
    if (!got.ok()) {
      if (missing(got.error())) {
        return stage_not_ready(window,
                               fmt::format("client {} is not merged yet: run `eaglesense merge --hour {} "
                                           "--client {}`",
                                           client, window.label(), client));
      }
      return std::move(got).error();
    }
    ES_ASSIGN_OR_RETURN(MergeResult m, parse_merge_result(got->body));
    merged.push_back(std::move(m));
  }
  return merged;
}

}  // namespace es::exporter
