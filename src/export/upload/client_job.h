#pragma once
/// One client's work item of an hour: its events in each reader partition and its spilled or staged
/// runs, and what writing its object gave (the manifest entry, or the error that fails the hour).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "core/result.h"
#include "export/client_events.h"
#include "export/hour_reader.h"
#include "export/spill.h"

namespace es::exporter {

/// One client's work item.
struct ClientJob {
  std::string client;
  std::vector<ClientEvents*> parts;  ///< its events in each reader partition
  std::vector<SpilledRun> runs;      ///< its events in sorted runs (spill files or staged objects)
  std::uint64_t body_bytes = 0;
  std::uint64_t events = 0;
  ManifestObject result;
  std::optional<Error> fatal;  ///< the job failed in a way that fails the hour
};

/// One job per client of read, in client-name order (parts point into read.partitions, whose
/// lifetime must cover the jobs'; read.runs is moved into the jobs).
[[nodiscard]] std::vector<ClientJob> gather_jobs(ReadResult& read);

/// The events of job's in-memory parts, sorted in output order (pointers into the parts' arenas).
[[nodiscard]] std::vector<StoredEvent> sorted_memory_events(const ClientJob& job);

/// At most the bytes of a client's uncompressed json/ndjson object: its events, a separator and
/// newline each, and the brackets.
[[nodiscard]] inline std::uint64_t object_bound(const ClientJob& job) {
  return job.body_bytes + 2 * job.events + 16;
}

}  // namespace es::exporter
