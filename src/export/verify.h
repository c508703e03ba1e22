#pragma once
/// Verifying an exported hour (`eaglesense verify`, docs/VERIFY.md): re-read the hour's manifest and
/// every object it names, check each object's size, SHA-256, event count, time range and order
/// against the manifest, the rejected file's count, the accounting, and optionally recount the hour
/// in DynamoDB.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/encode.h"
#include "core/manifest.h"
#include "core/time.h"
#include "export/ports.h"

namespace es::exporter {

struct VerifyOptions {
  /// Also recount the hour in DynamoDB (the exporter's own read, nothing written) and compare the
  /// per-client counts and the rejected count with the manifest.
  bool source = false;
  /// Largest decompressed size of one object; a larger one is reported, not read further. Objects
  /// are fetched whole (one GetObject), so the compressed object must also fit in memory.
  std::uint64_t max_object_bytes = 64ULL << 30;
};

/// One difference between the manifest and what is stored (or what DynamoDB holds now).
struct VerifyFinding {
  std::string client;    ///< the client concerned; "" for the hour as a whole
  std::string location;  ///< "s3://bucket/key" of the object concerned, or ""
  /// What differs: "manifest", "missing", "bytes", "sha256", "events", "min_time", "max_time",
  /// "window", "order", "format", "event", "metadata", "rejected", "accounting", "source".
  std::string check;
  std::string message;  ///< expected and found, in words
};

/// What was read of one object named by the manifest.
struct VerifiedObject {
  std::string client;    ///< "" for the rejected file
  std::string location;  ///< "s3://bucket/key"
  std::string status;    ///< "delivered", "undeliverable" or "rejected"
  bool found = false;
  std::uint64_t bytes = 0;   ///< as stored
  std::uint64_t events = 0;  ///< counted in the object
  bool ok = true;            ///< no finding names this object
};

struct VerifyReport {
  HourWindow window;
  std::string manifest_location;  ///< "s3://ops/manifests/YYYY/MM/DD/HH.json"
  bool manifest_found = false;
  Manifest manifest;  ///< as read (valid when manifest_found and no "manifest" finding)
  std::vector<VerifiedObject> objects;
  std::uint64_t events_counted = 0;  ///< delivered + rejected + undeliverable, as counted in the objects
  bool source_checked = false;
  std::uint64_t source_events_read = 0;  ///< events of the hour in DynamoDB now (in-window + rejected)
  std::vector<VerifyFinding> findings;

  [[nodiscard]] bool ok() const noexcept { return findings.empty(); }
};

/// Verifies one hour. The ops bucket, the attribute names and (with options.source) the table and
/// read settings come from config; format and compression come from the manifest. A missing
/// manifest, a missing object and every difference are findings, not errors. Error: a failure to
/// read that leaves the hour unverified (access denied, transport errors after the retries, a
/// missing ops bucket, a DynamoDB read failure).
[[nodiscard]] Result<VerifyReport> verify_hour(const HourWindow& window, const ExportConfig& config,
                                               const Ports& ports, const VerifyOptions& options = {});

/// What verify counts in an object's decompressed bytes.
struct ObjectContent {
  std::uint64_t events = 0;
  std::int64_t min_time_us = 0;  ///< valid when events > 0
  std::int64_t max_time_us = 0;
  /// Problems found in the content: check ("window", "order", "format", "event") and message; one
  /// entry per check at most (the first occurrence, with the number of occurrences).
  std::vector<std::pair<std::string, std::string>> problems;
};

/// Reads an object's bytes (compressed as given) in a format, checking every event: its time
/// (attribute time_attr: ISO-8601 string or epoch number, as the exporter parses it) lies in window,
/// events are ordered by (time, id_attr), and the layout is the exporter's (json: an array with one
/// event per line; ndjson: one event per line; csv: a header and one row per event). Error only for
/// an object that cannot be decompressed or exceeds max_bytes (kInvalidData).
[[nodiscard]] Result<ObjectContent> read_object_content(std::string_view bytes, OutputFormat format,
                                                        Compression compression, const HourWindow& window,
                                                        std::string_view time_attr, std::string_view id_attr,
                                                        std::uint64_t max_bytes);

}  // namespace es::exporter
