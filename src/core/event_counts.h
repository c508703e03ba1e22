#pragma once
/// The accounting of an hour, or of several: every event read is delivered, rejected or undeliverable.
/// The manifest, an hour's report and a run's totals all hold it (as a base), and add it up with +=.

#include <cstdint>

#include "core/result.h"

namespace es {
namespace json {
class Writer;
class Value;
}  // namespace json

struct EventCounts {
  std::uint64_t events_read = 0;
  std::uint64_t events_delivered = 0;
  std::uint64_t events_rejected = 0;
  std::uint64_t events_undeliverable = 0;

  EventCounts& operator+=(const EventCounts& other) {
    events_read += other.events_read;
    events_delivered += other.events_delivered;
    events_rejected += other.events_rejected;
    events_undeliverable += other.events_undeliverable;
    return *this;
  }
  /// The promise: read == delivered + rejected + undeliverable.
  [[nodiscard]] bool balanced() const {
    return events_read == events_delivered + events_rejected + events_undeliverable;
  }
  [[nodiscard]] EventCounts& counts() { return *this; }
  [[nodiscard]] const EventCounts& counts() const { return *this; }
  friend bool operator==(const EventCounts&, const EventCounts&) = default;
};

/// Writes the four counts as members of the object w is in: "events_read", "events_delivered",
/// "events_rejected", "events_undeliverable" (manifests, their history, run summaries, status reports).
void write_event_counts(json::Writer& w, const EventCounts& counts);

/// Reads the four members write_event_counts wrote from object; each is required.
[[nodiscard]] Result<EventCounts> read_event_counts(const json::Value& object);

}  // namespace es
