#pragma once
/// The server-side pre-filter of a scan: narrows what crosses the wire without ever dropping an
/// event the exact window check accepts.

#include <string>
#include <string_view>

#include "core/time.h"
#include "dynamodb/dynamodb_client.h"

namespace es::exporter {

struct WindowFilter {
  std::string expression;
  dynamodb::ExpressionAttributes attributes;
};

/// A FilterExpression passing every item whose time attribute could lie in window:
/// - strings whose local date-time lies within [start - 14 h, end + 14 h] (any offset up to ±14:00),
///   for each separator the parser accepts ('T', 't', ' ');
/// - numbers within the window as epoch seconds or as epoch milliseconds;
/// - anything that cannot be placed in an hour: no time attribute, a time of another type, or a
///   string not starting with a digit, so that it is read and rejected with its reason.
[[nodiscard]] WindowFilter make_window_filter(const HourWindow& window, std::string_view time_attr);

}  // namespace es::exporter
