#include "export/scale_out/staging.h"

#include <fmt/format.h>

#include "export/put_options.h"

namespace es::exporter {

StagingLayout::StagingLayout(const HourWindow& window)
    : prefix_(fmt::format("staging/{}/", window.label())) {}

std::string StagingLayout::plan() const {
  return prefix_ + "plan.json";
}
std::string StagingLayout::unit_manifest(int unit) const {
  return fmt::format("{}_units/unit-{:05}.json", prefix_, unit);
}
std::string StagingLayout::run(std::string_view client, int unit) const {
  return fmt::format("{}{}/unit-{:05}", prefix_, client, unit);
}
std::string StagingLayout::unit_rejected(int unit) const {
  return fmt::format("{}_rejected/unit-{:05}", prefix_, unit);
}
std::string StagingLayout::clients() const {
  return prefix_ + "_clients.json";
}
std::string StagingLayout::merged(std::string_view client) const {
  return fmt::format("{}_merged/{}.json", prefix_, client);
}

std::string staging_prefix(const HourWindow& window) {
  return StagingLayout(window).prefix();
}
std::string plan_key(const HourWindow& window) {
  return StagingLayout(window).plan();
}
std::string unit_manifest_key(const HourWindow& window, int unit) {
  return StagingLayout(window).unit_manifest(unit);
}
std::string run_key(const HourWindow& window, std::string_view client, int unit) {
  return StagingLayout(window).run(client, unit);
}
std::string unit_rejected_key(const HourWindow& window, int unit) {
  return StagingLayout(window).unit_rejected(unit);
}
std::string clients_key(const HourWindow& window) {
  return StagingLayout(window).clients();
}
std::string merged_key(const HourWindow& window, std::string_view client) {
  return StagingLayout(window).merged(client);
}

s3::PutOptions staging_put_options(const ExportConfig& config, std::string_view content_type) {
  s3::PutOptions o = encrypted_put_options(config);
  o.content_type = std::string(content_type);
  o.checksum_sha256 = true;
  return o;
}

}  // namespace es::exporter
