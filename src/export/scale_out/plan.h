#pragma once
/// The plan of a scaled-out hour: how it is split into work units, and its document
/// (staging/H/plan.json).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "core/time.h"

namespace es::exporter {

/// How an hour is split into work units.
struct Plan {
  HourWindow window;
  std::string id;  ///< hash of the plan's content: unit manifests of another plan are not accepted
  int units = 1;
  ReadMode read_mode = ReadMode::kScan;
  int total_segments = 0;  ///< scan: the Scan's TotalSegments (units x segments per unit)
  int shards = 0;          ///< query: hour shards, dealt out to the units
  std::string table;
  std::string format;
  std::string compression;
  std::int64_t created_us = 0;  ///< when planned (the manifest's duration counts from here)
  /// The run holding the hour's lease, which the finish stage gives back; "" when none was taken.
  /// Not part of the id: a plan redone by another run keeps the units already done.
  std::string lease_run_id;

  /// The scan segments (scan mode) or hour shards (query mode) of unit.
  [[nodiscard]] std::vector<int> unit_parts(int unit) const;
};

/// Splits window for workers work units: scan mode gives each unit config.segments segments of a
/// Scan of workers x config.segments segments; query mode deals the hour shards out (at most one
/// unit per shard). kInvalidArgument naming --workers when workers < 1.
[[nodiscard]] Result<Plan> make_plan(const ExportConfig& config, const HourWindow& window, int workers,
                                     std::int64_t now_us);
[[nodiscard]] std::string render_plan(const Plan& plan);
/// Reads back render_plan's output; kInvalidData naming the "plan" document and the field.
[[nodiscard]] Result<Plan> parse_plan(std::string_view json);

}  // namespace es::exporter
