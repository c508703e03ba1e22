#pragma once
/// Fast reads of exported event data, for checking objects that may hold millions of events
/// (`verify`): an event line's time and id, and the elements of a JSON array counted. Nothing is
/// built into a tree (core/json_reader.h does that for the project's small documents); simdjson
/// stays inside core.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace es {

/// The time and id of one exported event.
struct EventTimeAndId {
  std::int64_t time_us = 0;
  std::string_view id;  ///< valid until the reader's next read(); empty when the event has none
};

/// Reads the time and id attributes of events given one at a time as JSON objects (a json or ndjson
/// line). Keeps its parser and buffer between events: one per thread.
class EventLineReader {
 public:
  EventLineReader(std::string_view time_attr, std::string_view id_attr);
  ~EventLineReader();
  EventLineReader(const EventLineReader&) = delete;
  EventLineReader& operator=(const EventLineReader&) = delete;

  /// The event's time (the exporter's rule: an ISO-8601 string, or an epoch number of seconds or
  /// milliseconds) and id (a string, or a number's digits). Members are read in order until both are
  /// seen. kInvalidData whose message says what is wrong: "not a JSON object", "not valid JSON",
  /// "attribute 'x' is neither a string nor a number", "time '...' does not parse: ...",
  /// "no time attribute 'time'".
  [[nodiscard]] Result<EventTimeAndId> read(std::string_view event);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// The number of elements of a JSON array (the rejected file). kInvalidData about document: the
/// parser's message when the text is not JSON, "not a JSON array (...)" when it is something else.
[[nodiscard]] Result<std::uint64_t> count_json_array_elements(std::string_view text,
                                                              std::string_view document);

}  // namespace es
