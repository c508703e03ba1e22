#pragma once
/// The manifest of an exported hour (DESIGN.md section 4): written last, its presence means the hour
/// is complete. Rendered and parsed here so that `run`, `--catch-up` and `verify` agree on it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/event_counts.h"
#include "core/names.h"
#include "core/result.h"
#include "core/time.h"

namespace es {

/// What became of a client's object of the hour.
enum class ObjectStatus {
  kDelivered,      ///< written to the client's bucket
  kUndeliverable,  ///< the bucket refused it: the ops bucket keeps it under undeliverable_key
};
inline constexpr std::array<Named<ObjectStatus>, 2> kObjectStatusNames = {{
    {ObjectStatus::kDelivered, "delivered"},
    {ObjectStatus::kUndeliverable, "undeliverable"},
}};
[[nodiscard]] inline std::string_view to_string(ObjectStatus s) {
  return name_of(kObjectStatusNames, s);
}

struct ManifestObject {
  std::string client;
  std::string bucket;
  std::string key;
  ObjectStatus status = ObjectStatus::kDelivered;
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;  ///< object size as stored
  std::string sha256;       ///< hex SHA-256 of the object bytes
  std::int64_t min_time_us = 0;
  std::int64_t max_time_us = 0;
  std::string error;              ///< why it was undeliverable ("" when delivered)
  std::string undeliverable_key;  ///< where the ops bucket keeps it ("" when delivered)
};

struct Manifest : EventCounts {
  HourWindow window;
  std::string table;
  ReadMode read_mode = ReadMode::kScan;
  OutputFormat format = OutputFormat::kJson;
  Compression compression = Compression::kNone;
  std::string rejected_key;             ///< "" when nothing was rejected
  std::vector<ManifestObject> objects;  ///< sorted by client
  std::int64_t duration_ms = 0;
  std::string version;
  std::string generated_at;  ///< ISO-8601 of when the run wrote it
};

/// manifests/YYYY/MM/DD/HH.json
[[nodiscard]] std::string manifest_key(const HourWindow& window);

/// Pretty JSON (one field per line) of m.
[[nodiscard]] std::string render_manifest(const Manifest& m);

/// One object entry as a single-line JSON object (as it appears in the manifest).
[[nodiscard]] std::string render_manifest_object(const ManifestObject& o);
/// Reads back render_manifest_object's output. kInvalidData naming the field on anything malformed.
[[nodiscard]] Result<ManifestObject> parse_manifest_object(std::string_view json);

/// Reads back render_manifest's output. kInvalidData naming the field on anything malformed.
[[nodiscard]] Result<Manifest> parse_manifest(std::string_view json);

}  // namespace es
