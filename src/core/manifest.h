#pragma once
/// The manifest of an exported hour (DESIGN.md section 4): written last, its presence means the hour
/// is complete. Rendered and parsed here so that `run`, `--catch-up` and `verify` agree on it.

#include <cstdint>
#include <optional>
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
  std::string version_id;         ///< the object's S3 version where the bucket is versioned, else ""
  /// When a later run delivered an object that an earlier revision set aside (ISO-8601), else "".
  std::string delivered_at;
  /// Set when a re-export read fewer of this client's events than `events` (items deleted or expired
  /// by the table's TTL): the object was left as it was, and this says how many the table still held.
  std::optional<std::uint64_t> source_events;
};

/// Why an hour's manifest has the revision it has.
enum class RevisionReason {
  kFirstExport,  ///< the hour's first manifest
  kLateEvents,   ///< the hour's events changed since the last revision (late, changed or removed)
  kRedelivery,   ///< an undeliverable client's object was delivered
  kManualRerun,  ///< an explicit run of an hour that had a manifest (`run --hour`, `--from/--to`)
};
inline constexpr std::array<Named<RevisionReason>, 4> kRevisionReasonNames = {{
    {RevisionReason::kFirstExport, "first_export"},
    {RevisionReason::kLateEvents, "late_events"},
    {RevisionReason::kRedelivery, "redelivery"},
    {RevisionReason::kManualRerun, "manual_rerun"},
}};
[[nodiscard]] inline std::string_view to_string(RevisionReason r) {
  return name_of(kRevisionReasonNames, r);
}

/// An earlier revision of an hour's manifest, as its successor's history keeps it.
struct ManifestRevision : EventCounts {
  std::uint64_t revision = 0;
  RevisionReason reason = RevisionReason::kFirstExport;
  std::string sha256;        ///< hex SHA-256 of that manifest document as it was stored
  std::string generated_at;  ///< when it was written
  std::string run_id;
};

/// What the table held for the hour when it was read: the number of events (rejected ones included)
/// and an order-independent digest of them (core/source_digest.h). Equal digests: nothing changed.
struct SourceDigest {
  std::uint64_t events = 0;
  std::string digest;  ///< 64 hex digits; "" in manifests written before it existed
  friend bool operator==(const SourceDigest&, const SourceDigest&) = default;
};

/// Where the events came from, as far as the run knows it.
struct SourceTable {
  std::string name;
  std::string arn;  ///< "" when unknown (the name, region and account say it then)
  std::string region;
  std::string account;  ///< "" when unknown
};

struct Manifest : EventCounts {
  HourWindow window;
  std::uint64_t revision = 1;  ///< 1 for the hour's first manifest, one more for each re-export
  RevisionReason reason = RevisionReason::kFirstExport;
  std::vector<ManifestRevision> history;  ///< the earlier revisions, oldest first
  SourceDigest source;
  std::string table;  ///< the table's name
  SourceTable table_detail;
  ReadMode read_mode = ReadMode::kScan;
  OutputFormat format = OutputFormat::kJson;
  Compression compression = Compression::kNone;
  std::string rejected_key;             ///< "" when nothing was rejected
  std::vector<ManifestObject> objects;  ///< sorted by client
  std::int64_t duration_ms = 0;
  std::string version;
  std::string git_commit;     ///< of the program that wrote it ("" when built outside git)
  std::string run_id;         ///< the run that wrote it
  std::string settings_hash;  ///< hex SHA-256 of the settings that shape the objects (format, ...)
  std::string generated_at;   ///< ISO-8601 of when the run wrote it

  /// True when some client's object is still set aside as undeliverable.
  [[nodiscard]] bool has_undeliverable() const;
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
