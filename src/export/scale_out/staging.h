#pragma once
/// Where the scale-out stages of one hour keep their objects: the ops bucket's staging/{hour}/ prefix
/// (H is the hour label, e.g. 2026-11-29T10), and the headers those objects are written with.

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/time.h"
#include "s3/s3_types.h"

namespace es::exporter {

/// The keys of an hour's staging objects. '_' cannot start a client id's bucket name part, so
/// "_units" etc. never meet a client's prefix.
class StagingLayout {
 public:
  explicit StagingLayout(const HourWindow& window);

  [[nodiscard]] const std::string& prefix() const { return prefix_; }  ///< staging/H/
  [[nodiscard]] std::string plan() const;                              ///< staging/H/plan.json
  [[nodiscard]] std::string unit_manifest(int unit) const;             ///< staging/H/_units/unit-NNNNN.json
  [[nodiscard]] std::string run(std::string_view client, int unit) const;  ///< staging/H/{client}/unit-NNNNN
  [[nodiscard]] std::string unit_rejected(int unit) const;                 ///< staging/H/_rejected/unit-NNNNN
  [[nodiscard]] std::string clients() const;                               ///< staging/H/_clients.json
  [[nodiscard]] std::string merged(std::string_view client) const;  ///< staging/H/_merged/{client}.json

 private:
  std::string prefix_;
};

/// Shorthands for StagingLayout(window).x(...).
[[nodiscard]] std::string staging_prefix(const HourWindow& window);
[[nodiscard]] std::string plan_key(const HourWindow& window);
[[nodiscard]] std::string unit_manifest_key(const HourWindow& window, int unit);
[[nodiscard]] std::string run_key(const HourWindow& window, std::string_view client, int unit);
[[nodiscard]] std::string unit_rejected_key(const HourWindow& window, int unit);
[[nodiscard]] std::string clients_key(const HourWindow& window);
[[nodiscard]] std::string merged_key(const HourWindow& window, std::string_view client);

/// Content type of staged runs and rejected parts.
inline constexpr std::string_view kRunContentType = "application/x-eaglesense-run";

/// The headers of a staging object: the run's encryption, content_type, a SHA-256 checksum.
[[nodiscard]] s3::PutOptions staging_put_options(const ExportConfig& config, std::string_view content_type);

}  // namespace es::exporter
