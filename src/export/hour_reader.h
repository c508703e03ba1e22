#pragma once
/// Reading hours: parallel Scan segments (or Query hour shards), each page decoded once in place, every
/// item sorted into exactly one bucket: a client's events of its hour, rejected, or outside the windows.
/// One scan reads several hours at once (a backfill, a catch-up); a query reads one hour's shards.
/// Reader threads share nothing but atomic counters until they finish.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/manifest.h"
#include "core/time.h"
#include "export/client_events.h"
#include "export/ports.h"
#include "export/spill.h"

namespace es::exporter {

/// An event that cannot be exported, kept with its raw item for the ops bucket.
struct RejectedEvent {
  std::string reason;   ///< stable code: "missing_client_id", "invalid_client_id", ...
  std::string message;  ///< human explanation
  std::string event_id;
  std::string client_id;
  std::string item;  ///< the item as read (DynamoDB JSON)
};

/// Live counters, readable from another thread (progress line, metrics).
struct ReadProgress {
  std::atomic<int> units_total{0};
  std::atomic<int> units_done{0};
  std::atomic<std::uint64_t> items_seen{0};
  std::atomic<std::uint64_t> events_read{0};
};

/// How much a reader thread may buffer before it spills its events to sorted runs on disk.
struct ReadLimits {
  std::uint64_t bytes_per_thread = UINT64_MAX;  ///< arena bytes + records; UINT64_MAX: never spill
  std::string spill_dir = "/tmp";
};

/// Which part of the hour to read (a scale-out work unit reads a part): by default all of it.
struct ReadScope {
  std::vector<int> units;  ///< scan segments or query hour shards to read; empty: every one
  int total_segments = 0;  ///< scan mode: the Scan's TotalSegments; 0: config.segments
};

struct ReadResult {
  /// The memory of the partitions' events (declared first: destroyed after them).
  std::unique_ptr<BlockPool> blocks;
  std::vector<ClientEventMap> partitions;  ///< one per reader thread: what is still in memory
  /// Per client, the sorted runs spilled to disk (empty when the hour fit in memory).
  std::map<std::string, std::vector<SpilledRun>, std::less<>> runs;
  std::uint64_t spills = 0;         ///< times a reader thread spilled
  std::uint64_t spilled_bytes = 0;  ///< bytes written to spill files
  std::vector<RejectedEvent> rejected;
  std::uint64_t events_read = 0;     ///< in-window events + rejected items
  std::uint64_t items_scanned = 0;   ///< items the service evaluated (ScannedCount)
  std::uint64_t items_returned = 0;  ///< items that crossed the wire
  std::uint64_t out_of_window = 0;   ///< returned by the pre-filter but not in this hour
  std::uint64_t pages = 0;
  double consumed_capacity = 0;
  aws::CallStats calls;
  /// The hour's source digest: its events and rejected items (core/source_digest.h).
  SourceDigest source;
};

/// Several hours read by one scan: one ReadResult per window, in the order asked. Their events share
/// one block pool, held here; what the scan itself cost (items scanned and returned, out of window,
/// pages, capacity, requests, spills) is counted once, in the first hour's result.
struct MultiHourRead {
  std::unique_ptr<BlockPool> blocks;  ///< declared first: destroyed after the hours' events
  std::vector<ReadResult> hours;
};

/// Reads window from the table as config says (scan or query mode, attribute names, parallelism).
/// Any read error that survives the retries fails the whole hour (nothing is written for it, so a
/// rerun or the catch-up heals it).
[[nodiscard]] Result<ReadResult> read_hour(const HourWindow& window, const ExportConfig& config,
                                           const Ports& ports, ReadProgress* progress = nullptr,
                                           const ReadLimits& limits = {}, const ReadScope& scope = {});

/// Reads windows (distinct hours, in increasing order) with one scan whose filter covers them all, and
/// routes each event to its hour. Scan mode only (a query reads one hour's shards: use read_hour). An
/// event of an hour not asked for is out of window; a rejection that no hour can place (no usable
/// time) belongs to every hour, as it would to each hour's own run.
[[nodiscard]] Result<MultiHourRead> read_hours(const std::vector<HourWindow>& windows,
                                               const ExportConfig& config, const Ports& ports,
                                               ReadProgress* progress = nullptr,
                                               const ReadLimits& limits = {});

/// The hour-shard value of query mode: "2026-11-29T10#07".
[[nodiscard]] std::string hour_shard(const HourWindow& window, int shard);

}  // namespace es::exporter
