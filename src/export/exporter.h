#pragma once
/// Exporting hours: read the hour, write one object per client (sorted, encoded, checksummed),
/// set aside what is rejected or undeliverable in the ops bucket, and write the manifest last.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/deadline.h"
#include "core/manifest.h"
#include "core/time.h"
#include "export/hour_reader.h"
#include "export/ports.h"

namespace es::exporter {

/// What became of an hour in a run.
enum class HourStatus {
  kExported,       ///< every event delivered or rejected; the manifest is written
  kUndeliverable,  ///< exported, but some client's bucket refused its object (kept in the ops bucket)
  kSkipped,        ///< its manifest existed already (catch-up): nothing done
  kFailed,         ///< no manifest was written: a later run repeats it
  kDryRun,         ///< read and encoded, nothing written
  kLeased,         ///< another run holds the hour's lease (hour_lease.h): left to it, nothing done
  /// The run's deadline (core/deadline.h) came before the hour was done: its uploads aborted, its lease
  /// given back, no manifest. The Lambda hands it to the scale-out state machine (handed_off_to), or
  /// reports it failed when it cannot.
  kStopped,
};
inline constexpr std::array<Named<HourStatus>, 7> kHourStatusNames = {{
    {HourStatus::kExported, "exported"},
    {HourStatus::kUndeliverable, "undeliverable"},
    {HourStatus::kSkipped, "skipped"},
    {HourStatus::kFailed, "failed"},
    {HourStatus::kDryRun, "dry_run"},
    {HourStatus::kLeased, "leased"},
    {HourStatus::kStopped, "stopped"},
}};
[[nodiscard]] inline std::string_view to_string(HourStatus s) {
  return name_of(kHourStatusNames, s);
}

/// The outcome of one hour. Invariant (balanced()): read == delivered + rejected + undeliverable.
struct HourReport : EventCounts {
  HourWindow window;
  HourStatus status = HourStatus::kExported;
  std::uint64_t clients = 0;
  std::uint64_t objects = 0;  ///< client objects written (delivered)
  std::uint64_t bytes = 0;    ///< bytes of those objects
  std::uint64_t items_scanned = 0;
  std::uint64_t out_of_window = 0;
  double consumed_capacity = 0;
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t throttles = 0;
  std::int64_t duration_ms = 0;
  std::string manifest_key;
  std::string error;  ///< for kFailed
  // For kLeased: the run holding the hour's lease (empty when its lease could not be read), and
  // until when.
  std::string leased_by;
  std::int64_t leased_until_us = 0;
  std::vector<ManifestObject> objects_detail;
  std::uint64_t revision = 0;  ///< the revision of the manifest this run wrote (0: none written)
  RevisionReason reason = RevisionReason::kFirstExport;
  std::string skip_reason;  ///< for kSkipped: "manifest exists", "unchanged"
  /// Clients whose object was left as an earlier revision wrote it, because the table now holds fewer
  /// of their events (deleted, expired by TTL); see ExportOptions::allow_shrink.
  std::vector<std::string> source_shrank;
  std::uint64_t redelivered = 0;  ///< clients delivered from the ops bucket's undeliverable copy
  /// For kStopped: the Step Functions execution the hour was handed to ("" when not handed off).
  std::string handed_off_to;

  /// The report of an hour that failed with error; stopped when error is the deadline's.
  [[nodiscard]] static HourReport failed(const HourWindow& window, const Error& error) {
    HourReport r;
    r.window = window;
    r.status = is_deadline_exceeded(error) ? HourStatus::kStopped : HourStatus::kFailed;
    r.error = error.to_string();
    return r;
  }
  /// The report of an hour skipped because its manifest exists (or, with a digest, is unchanged).
  [[nodiscard]] static HourReport skipped(const HourWindow& window, std::string reason = "manifest exists") {
    HourReport r;
    r.window = window;
    r.status = HourStatus::kSkipped;
    r.manifest_key = es::manifest_key(window);
    r.skip_reason = std::move(reason);
    return r;
  }
  /// The report of an hour left to the run holding its lease.
  [[nodiscard]] static HourReport leased(const HourWindow& window, std::string holder_run_id,
                                         std::int64_t until_us) {
    HourReport r;
    r.window = window;
    r.status = HourStatus::kLeased;
    r.leased_by = std::move(holder_run_id);
    r.leased_until_us = until_us;
    return r;
  }
};

struct ExportOptions {
  bool dry_run = false;  ///< read and encode, upload nothing
  /// This run's id (core/run_id.h): it holds the hours' leases (export_hours). Empty: no leases
  /// are taken (tests and tools that run hours directly).
  std::string run_id;
  /// Bytes of encoded objects held in memory at once while uploading (at least one object).
  std::uint64_t upload_memory_bytes = 32ULL << 20;
  /// A re-export writes a client's object even when the table now holds fewer of its events than the
  /// earlier revision delivered (`--allow-shrink`). Off: that client's object is left as it was and
  /// reported source_shrank.
  bool allow_shrink = false;
  /// The table as the manifest names it: its ARN, region and account where the caller knows them
  /// (the Lambda knows its region and account); the name always comes from the configuration.
  SourceTable source_table;
};

/// Hex SHA-256 of the settings that shape an hour's objects and their accounting (format, compression,
/// attribute names, required attributes, bucket prefix, ops bucket, reserved buckets, read mode): two
/// manifests with the same hash were written under the same rules.
[[nodiscard]] std::string output_settings_hash(const ExportConfig& config);

/// How the memory budget of an hour (ExportConfig::memory_mb) is shared: uploads get a quarter (at most
/// upload_memory_bytes), each reader thread ~4 MiB for its page buffers and parser, the process ~24 MiB; the
/// rest buffers events, split evenly between the reader threads (at least 64 KiB each).
struct MemoryPlan {
  std::uint64_t upload_bytes = 0;
  ReadLimits read;
};
[[nodiscard]] MemoryPlan plan_memory(const ExportConfig& config, const ExportOptions& options,
                                     int reader_threads);

/// What the end of an hour needs: the read's figures, every client's object, the rejected events.
struct HourOutcome {
  std::uint64_t events_read = 0;
  std::uint64_t items_scanned = 0;
  std::uint64_t out_of_window = 0;
  double consumed_capacity = 0;
  std::vector<ManifestObject> objects;  ///< sorted by client
  std::vector<RejectedEvent> rejected;
  aws::CallStats calls;  ///< every request of the hour so far
  SourceDigest source;   ///< what the table held for the hour
  /// Objects of the prior revision left as they were (source_shrank), with source_events set.
  std::vector<ManifestObject> kept;
};

/// An hour's manifest as an earlier run stored it.
struct PriorManifest {
  Manifest manifest;
  std::string sha256;  ///< hex SHA-256 of the document as stored (the next revision's history)
  std::string etag;

  /// The history the next revision carries: this one's, then this revision itself.
  [[nodiscard]] std::vector<ManifestRevision> history() const;
};

/// Which revision of an hour a run writes: the first, or the one after prior.
struct HourRevision {
  std::optional<PriorManifest> prior;
  RevisionReason reason = RevisionReason::kFirstExport;
  aws::CallStats lookup_calls;  ///< the requests that looked prior up (the hour's report counts them)
};

class Exporter {
 public:
  Exporter(ExportConfig config, Ports ports, ExportOptions options = {},
           std::function<std::int64_t()> now_us = nullptr);

  /// Exports one hour. An Error means the hour failed and nothing marks it complete (no manifest),
  /// so a rerun or the catch-up repeats it; client objects already written are rewritten identically.
  /// An hour that has a manifest gets its next revision (manual_rerun).
  [[nodiscard]] Result<HourReport> export_hour(const HourWindow& window, ReadProgress* progress = nullptr);

  /// Writes an hour that has been read: every client's object, then the rejected file and the
  /// manifest (complete_hour). With a prior revision, a client whose events shrank is left as it was
  /// (unless allow_shrink), and the undeliverable copies of clients now delivered are deleted.
  [[nodiscard]] Result<HourReport> write_hour(const HourWindow& window, ReadResult read,
                                              const HourRevision& revision, std::int64_t started_us);

  /// Delivers the undeliverable objects of prior from their copies in the ops bucket (the same bytes,
  /// checked against the manifest's SHA-256): each one delivered has its copy deleted and is marked
  /// delivered, with when, in a new revision (redelivery). Nothing delivered: nothing written.
  [[nodiscard]] Result<HourReport> redeliver(const HourWindow& window, const PriorManifest& prior);

  /// The revision a run of window writes when nothing says otherwise: the next one after its manifest
  /// (manual_rerun), or the first.
  [[nodiscard]] Result<HourRevision> rerun_revision(const HourWindow& window);

  /// The hour's manifest, or nullopt when it has none. calls, when given, gets the requests it took.
  [[nodiscard]] Result<std::optional<PriorManifest>> prior_manifest(const HourWindow& window,
                                                                    aws::CallStats* calls = nullptr);

  /// The end of an hour whose objects are written: checks the accounting (read = delivered +
  /// rejected + undeliverable), writes the rejected file and then the manifest (unless a dry run).
  /// Shared by export_hour and the scale-out finish stage, so both write the same manifest.
  [[nodiscard]] Result<HourReport> complete_hour(const HourWindow& window, HourOutcome outcome,
                                                 std::int64_t started_us, const HourRevision& revision);
  /// The same, looking up the hour's manifest first (a rerun of an hour that has one is its next
  /// revision, manual_rerun).
  [[nodiscard]] Result<HourReport> complete_hour(const HourWindow& window, HourOutcome outcome,
                                                 std::int64_t started_us);

  /// True when the hour's manifest exists in the ops bucket.
  [[nodiscard]] Result<bool> hour_complete(const HourWindow& window);

  /// How this exporter's memory budget is shared (plan_memory for its reader threads).
  [[nodiscard]] MemoryPlan memory_plan() const;

  [[nodiscard]] const ExportConfig& config() const { return config_; }
  [[nodiscard]] const Ports& ports() const { return ports_; }
  [[nodiscard]] const ExportOptions& options() const { return options_; }
  [[nodiscard]] std::int64_t now_us() const { return now_us_(); }

 private:
  /// After a re-export: deletes the undeliverable copies of prior that the new revision no longer
  /// points at (the client was delivered). A failure is logged: nothing is lost by a copy left over.
  void remove_stale_copies(const HourWindow& window, const Manifest& prior, const HourReport& report);

  ExportConfig config_;
  Ports ports_;
  ExportOptions options_;
  std::function<std::int64_t()> now_us_;
};

/// Writes a manifest under options' condition (the revision it follows). A conflict whose stored
/// manifest is exactly text is success: a retry of this very write whose first attempt was stored.
[[nodiscard]] Status put_manifest(ObjectStore& store, std::string_view bucket, std::string_view key,
                                  std::string_view text, const s3::PutOptions& options);

/// "rejected/events-2026-11-29-10.json"
[[nodiscard]] std::string rejected_key(const HourWindow& window);
/// "undeliverable/{client}/{object key}"
[[nodiscard]] std::string undeliverable_key(std::string_view client, std::string_view object_key);
/// The rejected file: a JSON array, one rejected event per line, sorted by (event id, item).
[[nodiscard]] std::string render_rejected(std::vector<RejectedEvent> rejected);

}  // namespace es::exporter
