#include "core/event_counts.h"

#include "core/json_reader.h"
#include "core/json_writer.h"

namespace es {

void write_event_counts(json::Writer& w, const EventCounts& counts) {
  w.key("events_read").value(counts.events_read);
  w.key("events_delivered").value(counts.events_delivered);
  w.key("events_rejected").value(counts.events_rejected);
  w.key("events_undeliverable").value(counts.events_undeliverable);
}

Result<EventCounts> read_event_counts(const json::Value& object) {
  EventCounts counts;
  ES_ASSIGN_OR_RETURN(counts.events_read, object.uint64("events_read"));
  ES_ASSIGN_OR_RETURN(counts.events_delivered, object.uint64("events_delivered"));
  ES_ASSIGN_OR_RETURN(counts.events_rejected, object.uint64("events_rejected"));
  ES_ASSIGN_OR_RETURN(counts.events_undeliverable, object.uint64("events_undeliverable"));
  return counts;
}

}  // namespace es
