#pragma once
/// The server-side pre-filter of a scan: narrows what crosses the wire without ever hiding an item
/// the exact check places in the window, or cannot place in any hour (which must be read, so that it
/// is rejected with its reason). Only items the exact check would place in another hour may be
/// dropped.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.h"
#include "dynamodb/dynamodb_client.h"

namespace es::exporter {

struct WindowFilter {
  std::string expression;
  dynamodb::ExpressionAttributes attributes;
};

/// A FilterExpression passing every item whose time attribute could lie in window, or that the exact
/// check cannot place:
/// - no time attribute, or a time of any type but N;
/// - every string. The expression language has no way to tell a valid ISO-8601 instant of another
///   hour from a string the parser refuses that happens to sort near it ("2026-11-29X10:00:00Z",
///   "20261129T100000Z", "1764410700"), so strings are never filtered: the exact check judges them;
/// - numbers within the window as epoch seconds or as epoch milliseconds (core/time.h,
///   parse_epoch_number_us), and every number no hour holds: milliseconds past 9999-12-31 (epoch
///   microseconds and nanoseconds among them) and values before the year 0000, in either unit.
[[nodiscard]] WindowFilter make_window_filter(const HourWindow& window, std::string_view time_attr);
/// The same for the span [start_us, end_us) of whole hours (the hours of one scan).
[[nodiscard]] WindowFilter make_span_filter(std::int64_t start_us, std::int64_t end_us,
                                            std::string_view time_attr);

}  // namespace es::exporter
