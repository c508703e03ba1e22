#pragma once
/// Instants and hour windows: every instant in EagleSense is an int64 count of microseconds since
/// the Unix epoch (1970-01-01T00:00:00Z), UTC, proleptic Gregorian calendar, no leap seconds.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace es {

inline constexpr std::int64_t kMicrosPerSecond = 1'000'000;
inline constexpr std::int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr std::int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr std::int64_t kMicrosPerDay = 24 * kMicrosPerHour;

/// A calendar date (proleptic Gregorian). month 1..12, day 1..31.
struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;
  unsigned day = 1;
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

/// Days since 1970-01-01 of a valid civil date (negative before the epoch). No validation.
[[nodiscard]] std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept;
/// The civil date of a day count since 1970-01-01 (inverse of days_from_civil).
[[nodiscard]] CivilDate civil_from_days(std::int64_t days) noexcept;
/// True for Gregorian leap years (divisible by 4, except centuries not divisible by 400).
[[nodiscard]] bool is_leap_year(std::int64_t year) noexcept;
/// Number of days in month (1..12) of year.
[[nodiscard]] unsigned days_in_month(std::int64_t year, unsigned month) noexcept;

/// Parses an ISO-8601 / RFC 3339 instant into microseconds since the epoch.
///
/// Accepted: "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM|+HH|-HH)"; a space may stand
/// for 'T' (a lower-case 't' is accepted too). Year 0000..9999. Fraction digits beyond the sixth are
/// truncated toward the past: the instant is floor(true instant, 1 us), so "…:59.9999999Z" stays in the
/// earlier second and hour, whatever the offset. Offsets may be at most 14:00 in either direction.
/// Errors (kInvalidData, message names the problem): a missing zone designator, out-of-range month,
/// day (leap years honoured), hour (>= 24), minute (>= 60), second (60 = leap second, rejected because
/// Unix time has none), offset beyond ±14:00, any trailing character.
[[nodiscard]] Result<std::int64_t> parse_iso8601_us(std::string_view text);

/// Parses a DynamoDB N value holding an epoch time into microseconds, exactly (no double).
///
/// Rule: the value's integer part decides the unit. |integer part| < 1e11 (at most 11 digits) is
/// seconds, e.g. "1764410142" or "1764410142.5"; |integer part| >= 1e11 (12 digits or more) is
/// milliseconds, e.g. "1764410142123" or "1764410142123.25" (1e11 s is the year 5138, 1e11 ms is
/// 1973-03-03, so real timestamps never fall in the ambiguous range). Accepts an optional '-', a
/// fraction and an exponent ("1.7644101425E+9"), as DynamoDB may render numbers. Sub-microsecond
/// digits are truncated toward the past (floor). Errors (kInvalidData): not a number, or a value
/// beyond ±9999-12-31.
[[nodiscard]] Result<std::int64_t> parse_epoch_number_us(std::string_view digits);

/// Formats an instant as "2026-11-29T10:15:42.123456Z" (always six fraction digits, 'Z').
/// Years outside 0000..9999 are printed with as many digits as needed (and a '-' when negative).
[[nodiscard]] std::string format_iso8601_us(std::int64_t us);
/// Appends format_iso8601_us(us) to out.
void append_iso8601_us(std::string& out, std::int64_t us);

/// One UTC hour: the half-open interval [start_us, start_us + 1 h). start_us is a multiple of an hour.
struct HourWindow {
  std::int64_t start_us = 0;  ///< microseconds since the epoch, a multiple of kMicrosPerHour

  /// The hour containing the instant us (floor to the hour, also before the epoch).
  [[nodiscard]] static HourWindow containing(std::int64_t us) noexcept;
  /// The latest hour that has fully ended at now_us: the hour before the one containing now_us.
  [[nodiscard]] static HourWindow last_complete_hour(std::int64_t now_us) noexcept;
  /// Parses an hour given as "2026-11-29T10", "2026-11-29 10", "2026-11-29T10:00",
  /// "2026-11-29T10:00:00" or "2026-11-29T10:00:00Z" (also "+00:00"). Error (kInvalidArgument) on any
  /// other form, a range error, or minutes/seconds that are not zero.
  [[nodiscard]] static Result<HourWindow> parse_hour(std::string_view text);

  /// Exclusive end: start_us + 1 hour.
  [[nodiscard]] std::int64_t end_us() const noexcept { return start_us + kMicrosPerHour; }
  /// True when start_us <= us < end_us().
  [[nodiscard]] bool contains(std::int64_t us) const noexcept { return us >= start_us && us < end_us(); }
  [[nodiscard]] HourWindow next() const noexcept { return HourWindow{start_us + kMicrosPerHour}; }
  [[nodiscard]] HourWindow prev() const noexcept { return HourWindow{start_us - kMicrosPerHour}; }

  /// "2026-11-29T10" (the form parse_hour reads back).
  [[nodiscard]] std::string label() const;
  /// "2026-11-29-10", for object keys such as events-2026-11-29-10.json.
  [[nodiscard]] std::string key_date_part() const;
  /// "2026/11/29/10", for manifests/YYYY/MM/DD/HH.json.
  [[nodiscard]] std::string manifest_path_part() const;

  friend auto operator<=>(const HourWindow&, const HourWindow&) = default;
};

}  // namespace es
