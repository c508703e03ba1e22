#include "core/time.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace es {
namespace {

// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the years a four-digit ISO string can express.
constexpr std::int64_t kMinUs = -62'167'219'200LL * kMicrosPerSecond;
constexpr std::int64_t kEndUs = 253'402'300'800LL * kMicrosPerSecond;
constexpr std::int64_t kMaxOffsetMinutes = 14 * 60;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Reads n digits at text[pos...]; false when any is not a digit or the text is too short.
bool read_digits(std::string_view text, std::size_t pos, std::size_t n, std::int64_t& out) noexcept {
  if (pos + n > text.size()) return false;
  std::int64_t v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(text[i])) return false;
    v = v * 10 + (text[i] - '0');
  }
  out = v;
  return true;
}

// Quotes at most 64 bytes of the input so that a huge bad value does not flood a log line.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"";
  out.append(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  out += '"';
  return out;
}

Error time_error(std::string_view text, std::string_view why) {
  std::string message = "invalid ISO-8601 time ";
  message += quoted(text);
  message += ": ";
  message += why;
  return Error::invalid_data("time", std::move(message));
}

struct DateHour {
  std::int64_t year = 0;
  std::int64_t month = 0;
  std::int64_t day = 0;
  std::int64_t hour = 0;
};

// Parses "YYYY-MM-DD?HH" (13 bytes, ? one of 'T', 't', ' '); returns an explanation on failure.
const char* parse_date_hour(std::string_view text, DateHour& out) noexcept {
  if (!read_digits(text, 0, 4, out.year) || text.size() < 5 || text[4] != '-' ||
      !read_digits(text, 5, 2, out.month) || text.size() < 8 || text[7] != '-' ||
      !read_digits(text, 8, 2, out.day)) {
    return "expected a date YYYY-MM-DD";
  }
  if (text.size() < 11 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')) {
    return "expected 'T' or ' ' after the date";
  }
  if (!read_digits(text, 11, 2, out.hour)) return "expected a two-digit hour after the date";
  if (out.month < 1 || out.month > 12) return "month out of range 01..12";
  if (out.day < 1 || out.day > days_in_month(out.year, static_cast<unsigned>(out.month))) {
    return "day out of range for the month";
  }
  if (out.hour > 23) return "hour out of range 00..23";
  return nullptr;
}

std::int64_t date_hour_us(const DateHour& dh) noexcept {
  const std::int64_t days =
      days_from_civil(dh.year, static_cast<unsigned>(dh.month), static_cast<unsigned>(dh.day));
  return days * kMicrosPerDay + dh.hour * kMicrosPerHour;
}

// Parses a zone designator that must make up the whole of `zone`; offset in minutes east of UTC.
const char* parse_zone(std::string_view zone, std::int64_t& offset_minutes) noexcept {
  if (zone.empty()) return "missing zone designator (Z or +HH:MM)";
  if (zone.size() == 1 && (zone[0] == 'Z' || zone[0] == 'z')) {
    offset_minutes = 0;
    return nullptr;
  }
  if (zone[0] != '+' && zone[0] != '-') return "expected zone designator Z, +HH:MM, +HHMM or +HH";
  std::int64_t hh = 0;
  std::int64_t mm = 0;
  bool ok = read_digits(zone, 1, 2, hh);
  if (ok && zone.size() == 6 && zone[3] == ':') {
    ok = read_digits(zone, 4, 2, mm);
  } else if (ok && zone.size() == 5) {
    ok = read_digits(zone, 3, 2, mm);
  } else if (zone.size() != 3) {
    ok = false;
  }
  if (!ok) return "expected zone designator Z, +HH:MM, +HHMM or +HH";
  if (mm > 59) return "zone offset minutes out of range 00..59";
  const std::int64_t total = hh * 60 + mm;
  if (total > kMaxOffsetMinutes) return "zone offset beyond +/-14:00";
  offset_minutes = zone[0] == '-' ? -total : total;
  return nullptr;
}

void append_2(std::string& out, std::int64_t v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

void append_year(std::string& out, std::int64_t year) {
  if (year >= 0 && year <= 9999) {
    append_2(out, year / 100);
    append_2(out, year % 100);
    return;
  }
  out += std::to_string(year);
}

// floor(a / b) for b > 0.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept {
  // Hinnant's days_from_civil: shift the year to start in March so that the leap day is last.
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t m = month;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<std::int64_t>(day) - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(std::int64_t days) noexcept {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{yoe + era * 400 + (m <= 2 ? 1 : 0), static_cast<unsigned>(m), static_cast<unsigned>(d)};
}

bool is_leap_year(std::int64_t year) noexcept {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

unsigned days_in_month(std::int64_t year, unsigned month) noexcept {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

Result<std::int64_t> parse_iso8601_us(std::string_view text) {
  DateHour dh;
  if (const char* why = parse_date_hour(text, dh)) return time_error(text, why);
  std::int64_t minute = 0;
  std::int64_t second = 0;
  if (text.size() < 14 || text[13] != ':' || !read_digits(text, 14, 2, minute)) {
    return time_error(text, "expected :MM after the hour");
  }
  if (text.size() < 17 || text[16] != ':' || !read_digits(text, 17, 2, second)) {
    return time_error(text, "expected :SS after the minutes");
  }
  if (minute > 59) return time_error(text, "minute out of range 00..59");
  if (second == 60) return time_error(text, "leap second :60 is not representable in Unix time");
  if (second > 59) return time_error(text, "second out of range 00..59");

  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    const std::size_t n = pos - start;
    if (n == 0 || n > 9) return time_error(text, "fraction of a second must have 1 to 9 digits");
    // Digits past the sixth are dropped: the wall-clock fraction is always added to the seconds, so
    // dropping them floors the instant for any offset and any year (truncation toward the past).
    for (std::size_t i = 0; i < 6; ++i) {
      micros = micros * 10 + (i < n ? text[start + i] - '0' : 0);
    }
  }
  std::int64_t offset_minutes = 0;
  if (const char* why = parse_zone(text.substr(pos), offset_minutes)) return time_error(text, why);

  return date_hour_us(dh) + minute * kMicrosPerMinute + second * kMicrosPerSecond + micros -
         offset_minutes * kMicrosPerMinute;
}

Result<std::int64_t> parse_epoch_number_us(std::string_view text) {
  auto fail = [&](std::string_view why) {
    std::string message = "invalid epoch time number ";
    message += quoted(text);
    message += ": ";
    message += why;
    return Error::invalid_data("time", std::move(message));
  };
  std::size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) negative = text[pos++] == '-';
  std::size_t int_begin = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  std::size_t int_end = pos;
  std::size_t frac_begin = pos;
  std::size_t frac_end = pos;
  if (pos < text.size() && text[pos] == '.') {
    frac_begin = ++pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    frac_end = pos;
  }
  if (int_end == int_begin && frac_end == frac_begin) return fail("expected digits");
  std::int64_t exponent = 0;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) exp_negative = text[pos++] == '-';
    const std::size_t exp_begin = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      if (exponent < 100'000) exponent = exponent * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == exp_begin) return fail("expected exponent digits");
    if (exp_negative) exponent = -exponent;
  }
  if (pos != text.size()) return fail("unexpected character");

  // The significant digits are int digits then fraction digits; `point` is where the decimal point
  // falls in that sequence once the exponent is applied. Leading zeros are skipped first.
  while (int_begin < int_end && text[int_begin] == '0') ++int_begin;
  const std::size_t n_int = int_end - int_begin;
  const std::size_t n_all = n_int + (frac_end - frac_begin);
  auto digit = [&](std::int64_t i) -> std::int64_t {
    if (i < 0 || i >= static_cast<std::int64_t>(n_all)) return 0;
    const auto u = static_cast<std::size_t>(i);
    return u < n_int ? text[int_begin + u] - '0' : text[frac_begin + (u - n_int)] - '0';
  };
  const std::int64_t point = static_cast<std::int64_t>(n_int) + exponent;
  std::int64_t whole = 0;
  for (std::int64_t i = 0; i < point; ++i) {
    whole = whole * 10 + digit(i);
    if (whole > 1'000'000'000'000'000LL) return fail("value out of range (years 0000..9999)");
  }
  const bool millis = whole >= 100'000'000'000LL;
  const int frac_digits = millis ? 3 : 6;
  std::int64_t frac = 0;
  for (int k = 0; k < frac_digits; ++k) frac = frac * 10 + digit(point + k);
  bool dropped = false;
  for (std::int64_t i = std::max<std::int64_t>(point + frac_digits, 0); i < static_cast<std::int64_t>(n_all);
       ++i) {
    if (digit(i) != 0) {
      dropped = true;
      break;
    }
  }
  const std::int64_t magnitude = whole * (millis ? 1000 : kMicrosPerSecond) + frac;
  // Truncation toward the past: for a negative value, dropping digits would round toward zero.
  const std::int64_t us = negative ? -magnitude - (dropped ? 1 : 0) : magnitude;
  if (us < kMinUs || us >= kEndUs) return fail("value out of range (years 0000..9999)");
  return us;
}

void append_iso8601_us(std::string& out, std::int64_t us) {
  const std::int64_t days = floor_div(us, kMicrosPerDay);
  std::int64_t rest = us - days * kMicrosPerDay;
  const CivilDate date = civil_from_days(days);
  append_year(out, date.year);
  out += '-';
  append_2(out, date.month);
  out += '-';
  append_2(out, date.day);
  out += 'T';
  append_2(out, rest / kMicrosPerHour);
  rest %= kMicrosPerHour;
  out += ':';
  append_2(out, rest / kMicrosPerMinute);
  rest %= kMicrosPerMinute;
  out += ':';
  append_2(out, rest / kMicrosPerSecond);
  rest %= kMicrosPerSecond;
  out += '.';
  std::array<char, 6> frac{};
  for (std::size_t i = frac.size(); i-- > 0;) {
    frac[i] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  out.append(frac.data(), frac.size());
  out += 'Z';
}

std::string format_iso8601_us(std::int64_t us) {
  std::string out;
  out.reserve(32);
  append_iso8601_us(out, us);
  return out;
}

HourWindow HourWindow::containing(std::int64_t us) noexcept {
  return HourWindow{floor_div(us, kMicrosPerHour) * kMicrosPerHour};
}

HourWindow HourWindow::last_complete_hour(std::int64_t now_us) noexcept {
  return containing(now_us).prev();
}

Result<HourWindow> HourWindow::parse_hour(std::string_view text) {
  auto fail = [&](std::string_view why) {
    std::string message = "invalid hour ";
    message += quoted(text);
    message += ": ";
    message += why;
    message += " (expected e.g. 2026-11-29T10, 2026-11-29T10:00 or 2026-11-29T10:00:00Z)";
    return Error::invalid_argument("hour", std::move(message));
  };
  DateHour dh;
  if (const char* why = parse_date_hour(text, dh)) return fail(why);
  std::string_view rest = text.substr(13);
  for (int part = 0; part < 2 && !rest.empty() && rest[0] == ':'; ++part) {
    if (rest.size() < 3 || !is_digit(rest[1]) || !is_digit(rest[2])) return fail("expected :00");
    if (rest[1] != '0' || rest[2] != '0') return fail("minutes and seconds must be zero");
    rest.remove_prefix(3);
  }
  if (!rest.empty()) {
    std::int64_t offset_minutes = 0;
    if (text.size() - rest.size() != 19) return fail("a zone designator needs HH:MM:SS before it");
    if (parse_zone(rest, offset_minutes) != nullptr) return fail("unexpected trailing characters");
    if (offset_minutes != 0) return fail("the hour must be given in UTC (Z or +00:00)");
  }
  return HourWindow{date_hour_us(dh)};
}

std::string HourWindow::label() const {
  std::string s = format_iso8601_us(start_us);
  const auto t = s.find('T');
  return s.substr(0, t + 3);
}

std::string HourWindow::key_date_part() const {
  std::string s = label();
  s[s.find('T')] = '-';
  return s;
}

std::string HourWindow::manifest_path_part() const {
  std::string s = key_date_part();
  for (char& c : s) {
    if (c == '-') c = '/';
  }
  return s;
}

}  // namespace es
