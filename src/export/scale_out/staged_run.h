#pragma once
/// A work unit's run of one client, stored in the ops bucket and read back by the merge stage.

#include <cstdint>
#include <memory>
#include <string>

#include "core/hash.h"
#include "export/ports.h"
#include "export/scale_out/unit_manifest.h"
#include "export/spill.h"

namespace es::exporter {

/// A run stored in the ops bucket, read by ranged GETs (one per read_at). Reads are sequential from
/// offset 0 (a CSV merge makes two passes), so the run's SHA-256 is checked as the last byte arrives:
/// a run that differs from its unit manifest fails the read with kInvalidData.
class StagedRun final : public RunSource {
 public:
  StagedRun(std::shared_ptr<ObjectStore> store, std::string bucket, UnitRun run)
      : store_(std::move(store)), bucket_(std::move(bucket)), run_(std::move(run)) {}

  Status read_at(std::uint64_t offset, char* out, std::size_t n) const override;
  [[nodiscard]] std::string name() const override { return bucket_ + "/" + run_.key; }

 private:
  std::shared_ptr<ObjectStore> store_;
  std::string bucket_;
  UnitRun run_;
  mutable Sha256 hash_;
  mutable std::uint64_t hashed_ = 0;
};

}  // namespace es::exporter
