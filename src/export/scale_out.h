#pragma once
/// Scale-out: one hour exported by many workers (Step Functions, or `eaglesense run --workers W`) in
/// five stages that share only the ops bucket's staging/{hour}/ prefix and write exactly the objects
/// and manifest of a single run. docs/SCALING.md explains the stages, their keys and their failures.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/manifest.h"
#include "core/time.h"
#include "export/exporter.h"

namespace es::exporter {

/// Error::code of a stage started before its inputs exist (a merge before every unit manifest).
inline constexpr std::string_view kStageNotReady = "StageNotReady";

/// How an hour is split into work units.
struct Plan {
  HourWindow window;
  std::string id;  ///< hash of the plan's content: unit manifests of another plan are not accepted
  int units = 1;
  std::string read_mode;   ///< "scan" or "query"
  int total_segments = 0;  ///< scan: the Scan's TotalSegments (units x segments per unit)
  int shards = 0;          ///< query: hour shards, dealt out to the units
  std::string table;
  std::string format;
  std::string compression;
  std::int64_t created_us = 0;  ///< when planned (the manifest's duration counts from here)

  /// The scan segments (scan mode) or hour shards (query mode) of unit.
  [[nodiscard]] std::vector<int> unit_parts(int unit) const;
};

/// Splits window for workers work units: scan mode gives each unit config.segments segments of a
/// Scan of workers x config.segments segments; query mode deals the hour shards out (at most one
/// unit per shard). kInvalidArgument naming --workers when workers < 1.
[[nodiscard]] Result<Plan> make_plan(const ExportConfig& config, const HourWindow& window, int workers,
                                     std::int64_t now_us);
[[nodiscard]] std::string render_plan(const Plan& plan);
[[nodiscard]] Result<Plan> parse_plan(std::string_view json);

/// One client's sorted run written by a work unit.
struct UnitRun {
  std::string client;
  std::string key;
  std::uint64_t events = 0;
  std::uint64_t body_bytes = 0;
  std::uint64_t bytes = 0;  ///< of the run object
  std::string sha256;       ///< hex, of the run object
};

/// What a work unit read and wrote; written last, so its presence means the unit is done.
struct UnitManifest {
  HourWindow window;
  std::string plan_id;
  int unit = 0;
  std::uint64_t events_read = 0;  ///< in-window events + rejected items
  std::uint64_t items_scanned = 0;
  std::uint64_t out_of_window = 0;
  std::uint64_t pages = 0;
  double consumed_capacity = 0;
  std::uint64_t rejected = 0;
  std::string rejected_key;  ///< "" when nothing was rejected
  std::uint64_t rejected_bytes = 0;
  std::string rejected_sha256;
  aws::CallStats calls;
  std::vector<UnitRun> runs;  ///< by client name
};
[[nodiscard]] std::string render_unit_manifest(const UnitManifest& m);
[[nodiscard]] Result<UnitManifest> parse_unit_manifest(std::string_view json);

/// Keys under the ops bucket (H is the hour label, e.g. 2026-11-29T10).
[[nodiscard]] std::string staging_prefix(const HourWindow& window);  ///< staging/H/
[[nodiscard]] std::string plan_key(const HourWindow& window);        ///< staging/H/plan.json
[[nodiscard]] std::string unit_manifest_key(const HourWindow& window, int unit);
[[nodiscard]] std::string run_key(const HourWindow& window, std::string_view client, int unit);
[[nodiscard]] std::string unit_rejected_key(const HourWindow& window, int unit);
[[nodiscard]] std::string clients_key(const HourWindow& window);  ///< staging/H/_clients.json
[[nodiscard]] std::string merged_key(const HourWindow& window, std::string_view client);

/// The rejected events of a unit, as stored (length-prefixed fields) and read back.
[[nodiscard]] std::string encode_rejected(const std::vector<RejectedEvent>& rejected);
[[nodiscard]] Result<std::vector<RejectedEvent>> decode_rejected(std::string_view bytes);

struct PlanResult {
  Plan plan;
  bool complete = false;  ///< the hour already has its manifest (only checked with skip_complete)
};

/// What a merge stage leaves for finish: the client's manifest entry and the merge's requests.
struct MergeResult {
  ManifestObject object;
  aws::CallStats calls;
};

/// The five stages, on the exporter's configuration and ports.
class ScaleOut {
 public:
  explicit ScaleOut(Exporter& exporter) : exporter_(exporter) {}

  /// Plans window for workers units and writes the plan (unless skip_complete and the hour is done).
  [[nodiscard]] Result<PlanResult> plan(const HourWindow& window, int workers, bool skip_complete);
  /// Reads unit and writes its runs, rejected events and unit manifest.
  [[nodiscard]] Result<UnitManifest> work(const HourWindow& window, int unit,
                                          ReadProgress* progress = nullptr);
  /// The hour's clients (from every unit manifest); writes the merge items file.
  [[nodiscard]] Result<std::vector<std::string>> list_clients(const HourWindow& window);
  /// Writes client's final object (or its undeliverable copy) and its merge result.
  [[nodiscard]] Result<MergeResult> merge(const HourWindow& window, std::string_view client);
  /// Writes the rejected file and the manifest, then deletes the staging prefix.
  [[nodiscard]] Result<HourReport> finish(const HourWindow& window);

 private:
  struct Inputs {
    Plan plan;
    std::vector<UnitManifest> units;
  };
  /// The plan and every unit manifest; kStageNotReady naming the first unit without one.
  Result<Inputs> read_inputs(const HourWindow& window, ObjectStore& store);
  Result<Plan> read_plan(const HourWindow& window, ObjectStore& store);

  Exporter& exporter_;
};

/// The JSON the plan stage prints / returns: {"hour","complete","workers","plan_key","units":[...]},
/// each unit an item {"stage":"work","hour":H,"unit":i} for the Map state.
[[nodiscard]] std::string render_plan_output(const PlanResult& result);
/// The JSON the list-clients stage returns: {"hour","clients","items_bucket","items_key"}.
[[nodiscard]] std::string render_clients_output(const HourWindow& window, std::size_t clients,
                                                std::string_view bucket);

}  // namespace es::exporter
