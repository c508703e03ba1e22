#include "export/window_filter.h"

#include <fmt/format.h>

#include "core/json_writer.h"

namespace es::exporter {
namespace {

// parse_epoch_number_us places a number whose integer part has at most 11 digits as epoch seconds,
// a longer one as epoch milliseconds, and refuses any instant outside [0000-01-01, 10000-01-01).
// Numbers at or past kUnplaceableFrom (milliseconds of 9999-12-31T23:59:59.999, one less for
// safety) and below kUnplaceableBelow (seconds of 0000-01-01, one more) cannot all be placed: the
// filter passes them whole, a superset of what the parser refuses.
constexpr std::int64_t kUnplaceableFrom = 253'402'300'799'999;
constexpr std::int64_t kUnplaceableBelow = -62'167'219'199;

std::string string_value(std::string_view s) {
  std::string out = R"({"S":)";
  json::append_string(out, s);
  out += '}';
  return out;
}

std::string number_value(std::int64_t n) {
  return fmt::format(R"({{"N":"{}"}})", n);
}

}  // namespace

WindowFilter make_window_filter(const HourWindow& window, std::string_view time_attr) {
  return make_span_filter(window.start_us, window.end_us(), time_attr);
}

WindowFilter make_span_filter(std::int64_t start_us, std::int64_t end_us, std::string_view time_attr) {
  WindowFilter f;
  auto& values = f.attributes.values_json;
  f.attributes.names.emplace_back("#t", std::string(time_attr));
  values.emplace_back(":typeN", string_value("N"));
  // Each comparison sits behind an attribute_type test of its own type: real DynamoDB answers
  // "false" when a value and a bound differ in type, moto 5.2 fails the whole Scan with a 500.
  const std::int64_t start_s = start_us / kMicrosPerSecond;
  const std::int64_t end_s = end_us / kMicrosPerSecond;
  values.emplace_back(":nslo", number_value(start_s));
  values.emplace_back(":nshi", number_value(end_s));
  values.emplace_back(":nmlo", number_value(start_s * 1000));
  values.emplace_back(":nmhi", number_value(end_s * 1000));
  values.emplace_back(":nbig", number_value(kUnplaceableFrom));
  values.emplace_back(":nlow", number_value(kUnplaceableBelow));
  // Ranges are two comparisons, not BETWEEN: moto 5.2's BETWEEN never matches an item value of 0.
  f.expression =
      "attribute_not_exists(#t) OR NOT attribute_type(#t, :typeN) OR (attribute_type(#t, :typeN) AND "
      "((#t >= :nslo AND #t <= :nshi) OR (#t >= :nmlo AND #t <= :nmhi) OR #t >= :nbig OR #t < :nlow))";
  return f;
}

}  // namespace es::exporter
