#pragma once
/// What a work unit read and wrote (staging/H/_units/unit-NNNNN.json), and the rejected events it
/// set aside (staging/H/_rejected/unit-NNNNN).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/caller.h"
#include "core/result.h"
#include "core/time.h"
#include "export/hour_reader.h"

namespace es::exporter {

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
  /// The unit's part of the hour's source digest (the units' parts add up to the hour's); "" digest in
  /// unit manifests staged before it existed.
  SourceDigest source;
};
[[nodiscard]] std::string render_unit_manifest(const UnitManifest& m);
/// Reads back render_unit_manifest's output; kInvalidData naming the "unit manifest" and the field.
[[nodiscard]] Result<UnitManifest> parse_unit_manifest(std::string_view json);

/// The rejected events of a unit, as stored (length-prefixed fields) and read back.
[[nodiscard]] std::string encode_rejected(const std::vector<RejectedEvent>& rejected);
[[nodiscard]] Result<std::vector<RejectedEvent>> decode_rejected(std::string_view bytes);

}  // namespace es::exporter
