#include "export/window_filter.h"

#include <fmt/format.h>

#include "core/json_writer.h"

namespace es::exporter {
namespace {

// The offsets RFC 3339 allows span -14:00..+14:00 (ISO 8601 in practice too).
constexpr std::int64_t kMaxOffsetUs = 14 * kMicrosPerHour;

// "2026-11-29T10:00:00" with the given separator: the local date-time prefix of an ISO string.
std::string local_prefix(std::int64_t us, char separator) {
  std::string iso = format_iso8601_us(us);  // "2026-11-29T10:00:00.000000Z"
  iso.resize(19);
  iso[10] = separator;
  return iso;
}

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
  WindowFilter f;
  auto& values = f.attributes.values_json;
  f.attributes.names.emplace_back("#t", std::string(time_attr));
  values.emplace_back(":typeS", string_value("S"));
  values.emplace_back(":typeN", string_value("N"));
  std::string expr =
      "attribute_not_exists(#t) OR NOT (attribute_type(#t, :typeS) OR attribute_type(#t, :typeN))";

  // Each comparison sits behind an attribute_type test of its own type: real DynamoDB answers
  // "false" when a value and a bound differ in type, moto 5.2 fails the whole Scan with a 500.
  const std::int64_t lo = window.start_us - kMaxOffsetUs;
  const std::int64_t hi = window.end_us() + kMaxOffsetUs;
  std::string strings;
  int n = 0;
  for (char separator : {'T', 't', ' '}) {
    ++n;
    values.emplace_back(fmt::format(":slo{}", n), string_value(local_prefix(lo, separator)));
    values.emplace_back(fmt::format(":shi{}", n), string_value(local_prefix(hi, separator)));
    strings += fmt::format("#t BETWEEN :slo{0} AND :shi{0} OR ", n);
  }
  // Strings that do not start with a digit ('0' is 0x30, ':' follows '9'): not a date at all.
  values.emplace_back(":digit0", string_value("0"));
  values.emplace_back(":digitEnd", string_value(":"));
  strings += "#t < :digit0 OR #t >= :digitEnd";
  expr += fmt::format(" OR (attribute_type(#t, :typeS) AND ({}))", strings);

  const std::int64_t start_s = window.start_us / kMicrosPerSecond;
  const std::int64_t end_s = window.end_us() / kMicrosPerSecond;
  values.emplace_back(":nslo", number_value(start_s));
  values.emplace_back(":nshi", number_value(end_s));
  values.emplace_back(":nmlo", number_value(start_s * 1000));
  values.emplace_back(":nmhi", number_value(end_s * 1000));
  expr += " OR (attribute_type(#t, :typeN) AND (#t BETWEEN :nslo AND :nshi OR #t BETWEEN :nmlo AND :nmhi))";
  f.expression = std::move(expr);
  return f;
}

}  // namespace es::exporter
