// libFuzzer target: the time parsers (parse_iso8601_us, parse_epoch_number_us, HourWindow::parse_hour).
//
// Invariants: no crash or sanitizer report; errors are kInvalidData/kInvalidArgument values with a
// message; every instant parsed lies within the documented range, formats back to text that parses
// to the same instant (years 0000..9999), and sits in the hour HourWindow::containing gives it; an
// hour parsed is a multiple of an hour and reads back from its own label.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/time.h"

namespace {

void require(bool condition, const char* what, std::string_view input) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_time: invariant broken: %s (input '%.*s')\n", what,
                 static_cast<int>(input.size()), input.data());
    std::abort();
  }
}

// Instants of 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
const std::int64_t kFirstUs = es::days_from_civil(0, 1, 1) * es::kMicrosPerDay;
const std::int64_t kEndUs = es::days_from_civil(10000, 1, 1) * es::kMicrosPerDay;

void check_instant(std::int64_t us, std::string_view input) {
  // Offsets of up to 14 h may carry year 0000 or 9999 just past the calendar's edge.
  require(us >= kFirstUs - 15 * es::kMicrosPerHour && us < kEndUs + 15 * es::kMicrosPerHour,
          "instant within ±9999 years and offsets", input);
  const es::HourWindow hour = es::HourWindow::containing(us);
  require(hour.contains(us), "containing() holds the instant", input);
  require(hour.start_us % es::kMicrosPerHour == 0, "an hour starts on the hour", input);
  if (us >= kFirstUs && us < kEndUs) {
    const std::string text = es::format_iso8601_us(us);
    auto back = es::parse_iso8601_us(text);
    require(back.ok(), "format_iso8601_us output parses", input);
    require(*back == us, "format then parse gives the same instant", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto iso = es::parse_iso8601_us(input);
  if (iso.ok()) {
    check_instant(*iso, input);
  } else {
    require(iso.error().kind == es::ErrorKind::kInvalidData, "iso errors are kInvalidData", input);
    require(!iso.error().message.empty(), "iso errors say why", input);
  }

  auto epoch = es::parse_epoch_number_us(input);
  if (epoch.ok()) {
    require(*epoch >= kFirstUs - es::kMicrosPerDay && *epoch < kEndUs + es::kMicrosPerDay,
            "epoch instant within ±9999-12-31", input);
    check_instant(*epoch, input);
  } else {
    require(epoch.error().kind == es::ErrorKind::kInvalidData, "epoch errors are kInvalidData", input);
    require(!epoch.error().message.empty(), "epoch errors say why", input);
  }

  auto hour = es::HourWindow::parse_hour(input);
  if (hour.ok()) {
    require(hour->start_us % es::kMicrosPerHour == 0, "parse_hour gives a whole hour", input);
    auto again = es::HourWindow::parse_hour(hour->label());
    require(again.ok() && *again == *hour, "an hour reads back from its label", input);
    require(hour->contains(hour->start_us) && !hour->contains(hour->end_us()), "half-open window", input);
  } else {
    require(!hour.error().message.empty(), "parse_hour errors say why", input);
  }
  return 0;
}
