#pragma once
/// The operator's picture of a range of hours (`eaglesense status`, the report the Lambda publishes):
/// the state of each hour from its manifest, or from its lease when it has none, and each client's
/// totals over the range. Read from the ops bucket only: never the table.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/event_counts.h"
#include "core/manifest.h"
#include "core/names.h"
#include "core/result.h"
#include "core/time.h"
#include "export/ports.h"

namespace es::exporter {

/// What an hour is, as the ops bucket tells it. A revised hour (revision > 1) is one of these too:
/// HourOverview::revised() says it beside the state.
enum class HourState {
  kComplete,               ///< a manifest, every object delivered
  kCompleteUndeliverable,  ///< a manifest, some client's object still set aside as undeliverable
  kInProgress,             ///< no manifest, and a run holds the hour's lease (not expired)
  kFailed,                 ///< no manifest and an expired lease (the run died), or a damaged manifest
  kMissing,                ///< no manifest and no lease: never exported
};
inline constexpr std::array<Named<HourState>, 5> kHourStateNames = {{
    {HourState::kComplete, "complete"},
    {HourState::kCompleteUndeliverable, "complete_undeliverable"},
    {HourState::kInProgress, "in_progress"},
    {HourState::kFailed, "failed"},
    {HourState::kMissing, "missing"},
}};
[[nodiscard]] inline std::string_view to_string(HourState s) {
  return name_of(kHourStateNames, s);
}

/// An hour's lease, as the run that holds it wrote it: locks/YYYY-MM-DDTHH.json in the ops bucket.
struct HourLock {
  std::string run_id;
  std::string holder;
  std::int64_t acquired_at_us = 0;
  std::int64_t expires_at_us = 0;
};

/// locks/YYYY-MM-DDTHH.json
[[nodiscard]] std::string lock_key(const HourWindow& window);
/// Reads a lease document: run_id, holder, acquired_at and expires_at (ISO-8601). kInvalidData naming
/// the field on anything malformed.
[[nodiscard]] Result<HourLock> parse_hour_lock(std::string_view json);

/// One client's object of an hour, as its manifest lists it.
struct StatusObject {
  std::string client;
  std::string bucket;
  std::string key;
  std::string undeliverable_key;  ///< where the ops bucket keeps it when undeliverable, else ""
  ObjectStatus status = ObjectStatus::kDelivered;
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
};

struct HourOverview : EventCounts {
  HourWindow window;
  HourState state = HourState::kMissing;
  std::uint64_t revision = 0;  ///< the manifest's revision; 0 without a manifest
  std::string reason;          ///< the revision's reason ("" without a manifest)
  std::string manifest_key;
  std::string generated_at;  ///< when the manifest was written ("" without one)
  std::uint64_t clients = 0;
  std::uint64_t bytes = 0;
  std::int64_t duration_ms = 0;
  std::optional<HourLock> lock;       ///< read only for an hour without a manifest
  std::vector<StatusObject> objects;  ///< sorted by client
  std::string note;                   ///< why the hour is failed, in words ("" otherwise)

  [[nodiscard]] bool revised() const noexcept { return revision > 1; }
  [[nodiscard]] bool complete() const noexcept {
    return state == HourState::kComplete || state == HourState::kCompleteUndeliverable;
  }
};

/// The state of an hour from what the ops bucket holds for it: its manifest (if any), else its lease
/// (if any) against now_us. Pure: the reading is read_status's.
[[nodiscard]] HourOverview hour_overview(const HourWindow& window, const std::optional<Manifest>& manifest,
                                         const std::optional<HourLock>& lock, std::int64_t now_us);

/// A client over the range: its totals and the hours in which its object was undeliverable.
struct ClientOverview {
  std::string client;
  std::uint64_t events = 0;  ///< delivered + undeliverable
  std::uint64_t events_delivered = 0;
  std::uint64_t events_undeliverable = 0;
  std::uint64_t bytes = 0;
  std::uint64_t hours = 0;  ///< hours with an object for it
  std::vector<HourWindow> undeliverable_hours;
};

/// Each client of the hours' manifests, in name order.
[[nodiscard]] std::vector<ClientOverview> aggregate_clients(const std::vector<HourOverview>& hours);

struct StatusReport {
  HourWindow from;
  HourWindow to;
  std::int64_t generated_at_us = 0;
  std::string ops_bucket;
  std::vector<HourOverview> hours;  ///< every hour of [from, to], oldest first
  std::vector<ClientOverview> clients;
  EventCounts totals;
  std::uint64_t bytes = 0;

  /// How many hours are in state s.
  [[nodiscard]] std::size_t count(HourState s) const;
  [[nodiscard]] std::size_t revised_hours() const;
};

/// The report of already-read hours: the clients and totals added up.
[[nodiscard]] StatusReport make_status_report(const ExportConfig& config, std::vector<HourOverview> hours,
                                              std::int64_t now_us);

/// The exit code of `status`: 1 when an hour is missing or failed (nothing there, or a run died: an
/// alarm should fire and a rerun or --catch-up repairs it), else 3 when undeliverable events remain,
/// else 0. An hour in progress counts as neither: its run still holds the lease, and when the lease
/// expires without a manifest the hour becomes failed.
[[nodiscard]] int status_exit_code(const StatusReport& report);

struct StatusOptions {
  /// Hours read at once (each a GET of its manifest, and of its lease when there is no manifest).
  int concurrency = 16;
  std::int64_t now_us = 0;  ///< leases are judged against this
};

/// Reads the manifests (and, for hours without one, the leases) of hours from config's ops bucket,
/// options.concurrency at a time. Error: a read that fails for another reason than a missing object
/// (a missing ops bucket, access denied, transport errors after the retries).
[[nodiscard]] Result<StatusReport> read_status(const std::vector<HourWindow>& hours,
                                               const ExportConfig& config, const Ports& ports,
                                               const StatusOptions& options);

}  // namespace es::exporter
