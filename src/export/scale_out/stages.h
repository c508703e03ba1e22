#pragma once
/// The five scale-out stages (plan, work, list-clients, merge, finish) on an exporter's configuration
/// and ports, and the JSON they answer with (the `plan`, `work` and `merge` commands print it, the
/// Lambda returns it to the state machine). docs/SCALING.md explains the stages and their failures.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/manifest.h"
#include "core/time.h"
#include "export/exporter.h"
#include "export/scale_out/plan.h"
#include "export/scale_out/unit_manifest.h"

namespace es::exporter {

/// Error::code of a stage started before its inputs exist (a merge before every unit manifest).
inline constexpr std::string_view kStageNotReady = "StageNotReady";

struct PlanResult {
  Plan plan;
  bool complete = false;  ///< the hour already has its manifest (only checked with skip_complete)
  /// Another run holds the hour's lease: nothing planned. Who, and until when.
  bool leased = false;
  std::string leased_by;
  std::int64_t leased_until_us = 0;
};

/// What a merge stage leaves for finish: the client's manifest entry and the merge's requests.
struct MergeResult {
  ManifestObject object;
  aws::CallStats calls;
};

/// The five stages, on the exporter's configuration and ports.
class ScaleOut {
 public:
  /// run_id holds the leases of the hours this plans (hour_lease.h); "": the exporter's
  /// (ExportOptions::run_id), and without one no lease is taken.
  explicit ScaleOut(Exporter& exporter, std::string run_id = {});

  /// Plans window for workers units and writes the plan (unless skip_complete and the hour is done),
  /// after taking the hour's lease: an hour another run holds is reported leased, nothing planned.
  [[nodiscard]] Result<PlanResult> plan(const HourWindow& window, int workers, bool skip_complete);
  /// Reads unit and writes its runs, rejected events and unit manifest.
  [[nodiscard]] Result<UnitManifest> work(const HourWindow& window, int unit,
                                          ReadProgress* progress = nullptr);
  /// The hour's clients (from every unit manifest); writes the merge items file.
  [[nodiscard]] Result<std::vector<std::string>> list_clients(const HourWindow& window);
  /// Writes client's final object (or its undeliverable copy) and its merge result.
  [[nodiscard]] Result<MergeResult> merge(const HourWindow& window, std::string_view client);
  /// Writes the rejected file and the manifest, then deletes the staging prefix and gives back the
  /// hour's lease the plan took.
  [[nodiscard]] Result<HourReport> finish(const HourWindow& window);

 private:
  struct Inputs {
    Plan plan;
    std::vector<UnitManifest> units;
  };
  /// The plan and every unit manifest; kStageNotReady naming the first unit without one.
  Result<Inputs> read_inputs(const HourWindow& window, ObjectStore& store);
  Result<Plan> read_plan(const HourWindow& window, ObjectStore& store);
  /// The merge results of clients (for finish); kStageNotReady naming the first client not merged.
  Result<std::vector<MergeResult>> read_merged(const HourWindow& window, ObjectStore& store,
                                               const std::vector<std::string>& clients);

  Exporter& exporter_;
  std::string run_id_;
};

/// The JSON the plan stage prints / returns: {"hour","complete","leased","workers","plan_key",
/// "units":[...]}, each unit an item {"stage":"work","hour":H,"unit":i} for the Map state; a leased
/// hour adds "leased_by" and "leased_until".
[[nodiscard]] std::string render_plan_output(const PlanResult& result);
/// The JSON the list-clients stage returns: {"hour","clients","items_bucket","items_key"}.
[[nodiscard]] std::string render_clients_output(const HourWindow& window, std::size_t clients,
                                                std::string_view bucket);
/// The merge Map's items (staging/H/_clients.json, and what `merge --list-clients` prints): a JSON
/// array, one {"stage":"merge","hour":H,"client":c} per line.
[[nodiscard]] std::string render_merge_items(const HourWindow& window,
                                             const std::vector<std::string>& clients);

/// A merge result as stored for finish (staging/H/_merged/{client}.json) and read back.
[[nodiscard]] std::string render_merge_result(const MergeResult& result);
[[nodiscard]] Result<MergeResult> parse_merge_result(std::string_view json);

}  // namespace es::exporter
