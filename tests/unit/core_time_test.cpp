#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "core/time.h"

namespace es {
namespace {

// 2026-11-29T10:00:00Z
constexpr std::int64_t kH10 = 1'795'946'400LL * kMicrosPerSecond;

std::int64_t iso(const std::string& s) {
  auto r = parse_iso8601_us(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : INT64_MIN;
}

std::string iso_error(const std::string& s) {
  auto r = parse_iso8601_us(s);
  EXPECT_FALSE(r.ok()) << s;
  return r.ok() ? "" : r.error().message;
}

std::int64_t epoch(const std::string& s) {
  auto r = parse_epoch_number_us(s);
  EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : INT64_MIN;
}

TEST(CivilDays, EpochAndKnownDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(2026, 11, 29), 20786);
  EXPECT_EQ(civil_from_days(20786), (CivilDate{2026, 11, 29}));
  EXPECT_EQ(civil_from_days(-1), (CivilDate{1969, 12, 31}));
}

TEST(CivilDays, RoundTripOverFourCenturies) {
  for (std::int64_t d = days_from_civil(1800, 1, 1); d < days_from_civil(2401, 1, 1); ++d) {
    const CivilDate c = civil_from_days(d);
    ASSERT_EQ(days_from_civil(c.year, c.month, c.day), d);
    ASSERT_GE(c.day, 1u);
    ASSERT_LE(c.day, days_in_month(c.year, c.month));
  }
}

TEST(CivilDays, LeapYears) {
  EXPECT_TRUE(is_leap_year(2000));
  EXPECT_TRUE(is_leap_year(2024));
  EXPECT_FALSE(is_leap_year(1900));
  EXPECT_FALSE(is_leap_year(2026));
  EXPECT_EQ(days_in_month(2024, 2), 29u);
  EXPECT_EQ(days_in_month(2100, 2), 28u);
}

TEST(ParseIso, BasicForms) {
  EXPECT_EQ(iso("2026-11-29T10:00:00Z"), kH10);
  EXPECT_EQ(iso("2026-11-29T10:00:00z"), kH10);
  EXPECT_EQ(iso("2026-11-29 10:00:00Z"), kH10);
  EXPECT_EQ(iso("2026-11-29T10:00:00+00:00"), kH10);
  EXPECT_EQ(iso("2026-11-29T10:00:00-00:00"), kH10);
  EXPECT_EQ(iso("2026-11-29T10:00:00+0000"), kH10);
  EXPECT_EQ(iso("2026-11-29T10:00:00+00"), kH10);
  EXPECT_EQ(iso("2026-11-29T10:15:42.123456+00:00"), kH10 + 15 * kMicrosPerMinute + 42'123'456);
  EXPECT_EQ(iso("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(iso("1969-12-31T23:59:59.999999Z"), -1);
}

TEST(ParseIso, Fractions) {
  EXPECT_EQ(iso("2026-11-29T10:00:00.1Z"), kH10 + 100'000);
  EXPECT_EQ(iso("2026-11-29T10:00:00.123Z"), kH10 + 123'000);
  EXPECT_EQ(iso("2026-11-29T10:00:00.000001Z"), kH10 + 1);
  // Beyond microseconds: truncated toward the past.
  EXPECT_EQ(iso("2026-11-29T10:00:00.1234567Z"), kH10 + 123'456);
  EXPECT_EQ(iso("2026-11-29T10:00:00.999999999Z"), kH10 + 999'999);
  EXPECT_EQ(iso("2026-11-29T09:59:59.9999999Z"), kH10 - 1);
  EXPECT_EQ(iso("1969-12-31T23:59:59.9999999Z"), -1);
  EXPECT_EQ(iso("2026-11-29T15:29:59.9999999+05:30"), kH10 - 1);
  iso_error("2026-11-29T10:00:00.Z");
  iso_error("2026-11-29T10:00:00.1234567890Z");
}

TEST(ParseIso, HourBoundaries) {
  const HourWindow h{kH10};
  EXPECT_TRUE(h.contains(iso("2026-11-29T10:00:00.000000Z")));
  EXPECT_TRUE(h.contains(iso("2026-11-29T10:59:59.999999Z")));
  EXPECT_FALSE(h.contains(iso("2026-11-29T11:00:00Z")));
  EXPECT_FALSE(h.contains(iso("2026-11-29T09:59:59.999999Z")));
  // Offsets across the boundary.
  EXPECT_EQ(iso("2026-11-29T15:30:00+05:30"), kH10);
  EXPECT_FALSE(h.contains(iso("2026-11-29T15:29:59.999999+05:30")));
  EXPECT_EQ(iso("2026-11-29T05:00:00-05:00"), kH10);
  EXPECT_TRUE(h.contains(iso("2026-11-29T05:59:59.999999-05:00")));
  EXPECT_FALSE(h.contains(iso("2026-11-29T06:00:00-05:00")));
  EXPECT_EQ(iso("2026-11-30T00:00:00+14:00"), kH10);
  EXPECT_EQ(iso("2026-11-30T00:59:59.999999+1400"), kH10 + kMicrosPerHour - 1);
  EXPECT_EQ(iso("2026-11-28T20:00:00-14:00"), kH10);
  EXPECT_EQ(iso("2026-11-28T19:59:59.999999-14"), kH10 - 1);
}

TEST(ParseIso, DayAndYearRollover) {
  EXPECT_EQ(iso("2026-01-01T05:00:00+05:00"), iso("2025-12-31T23:59:59Z") + kMicrosPerSecond);
  EXPECT_EQ(iso("2024-02-29T12:00:00Z"), iso("2024-03-01T00:00:00+12:00"));
}

TEST(ParseIso, RangeErrors) {
  EXPECT_NE(iso_error("2026-13-01T00:00:00Z").find("month"), std::string::npos);
  EXPECT_NE(iso_error("2026-00-01T00:00:00Z").find("month"), std::string::npos);
  EXPECT_NE(iso_error("2026-02-29T00:00:00Z").find("day"), std::string::npos);
  EXPECT_NE(iso_error("2100-02-29T00:00:00Z").find("day"), std::string::npos);
  EXPECT_EQ(iso("2000-02-29T00:00:00Z"), days_from_civil(2000, 2, 29) * kMicrosPerDay);
  EXPECT_NE(iso_error("2026-04-31T00:00:00Z").find("day"), std::string::npos);
  EXPECT_NE(iso_error("2026-11-00T00:00:00Z").find("day"), std::string::npos);
  EXPECT_NE(iso_error("2026-11-29T24:00:00Z").find("hour"), std::string::npos);
  EXPECT_NE(iso_error("2026-11-29T10:60:00Z").find("minute"), std::string::npos);
  EXPECT_NE(iso_error("2026-12-31T23:59:60Z").find("leap second"), std::string::npos);
  EXPECT_NE(iso_error("2026-11-29T10:00:61Z").find("second"), std::string::npos);
  EXPECT_NE(iso_error("2026-11-29T10:00:00+14:01").find("14:00"), std::string::npos);
  EXPECT_NE(iso_error("2026-11-29T10:00:00-15:00").find("14:00"), std::string::npos);
  EXPECT_NE(iso_error("2026-11-29T10:00:00+05:60").find("minutes"), std::string::npos);
}

TEST(ParseIso, SyntaxErrors) {
  EXPECT_NE(iso_error("2026-11-29T10:00:00").find("zone"), std::string::npos);
  iso_error("");
  iso_error("2026-11-29");
  iso_error("2026-11-29T10");
  iso_error("2026-11-29T10:00");
  iso_error("2026-11-29X10:00:00Z");
  iso_error("2026/11/29T10:00:00Z");
  iso_error("26-11-29T10:00:00Z");
  iso_error("2026-11-29T10:00:00ZZ");
  iso_error("2026-11-29T10:00:00Z ");
  iso_error(" 2026-11-29T10:00:00Z");
  iso_error("2026-11-29T10:00:00+5:30");
  iso_error("2026-11-29T10:00:00+05:3");
  iso_error("2026-11-29T10:00:00+05:300");
  iso_error("2026-1a-29T10:00:00Z");
  iso_error("1764410142");
  // A long bad value is quoted only in part.
  EXPECT_LT(iso_error(std::string(10000, 'x')).size(), 200u);
}

TEST(ParseEpoch, Seconds) {
  EXPECT_EQ(epoch("1795946400"), kH10);
  EXPECT_EQ(epoch("1795946400.5"), kH10 + 500'000);
  EXPECT_EQ(epoch("1795946400.123456"), kH10 + 123'456);
  EXPECT_EQ(epoch("1795946400.1234569"), kH10 + 123'456);
  EXPECT_EQ(epoch("1795946399.9999999"), kH10 - 1);
  EXPECT_EQ(epoch("0"), 0);
  EXPECT_EQ(epoch("99999999999"), 99'999'999'999LL * kMicrosPerSecond);  // largest seconds value
  EXPECT_EQ(epoch("-1.5"), -1'500'000);
  EXPECT_EQ(epoch("-0.0000001"), -1);
  EXPECT_EQ(epoch("1.7959464E+9"), kH10);
  EXPECT_EQ(epoch("17959464005E-1"), kH10 + 500'000);
  EXPECT_EQ(epoch("0001795946400"), kH10);
}

TEST(ParseEpoch, Milliseconds) {
  EXPECT_EQ(epoch("100000000000"), 100'000'000'000LL * 1000);  // 1e11: the first millisecond value
  EXPECT_EQ(epoch("1795946400000"), kH10);
  EXPECT_EQ(epoch("1795946400123"), kH10 + 123'000);
  EXPECT_EQ(epoch("1795946399999.999"), kH10 - 1);
  EXPECT_EQ(epoch("1795946399999.9999"), kH10 - 1);
  EXPECT_EQ(epoch("1.7959464E+12"), kH10);
  const HourWindow h{kH10};
  EXPECT_TRUE(h.contains(epoch("1795949999999")));
  EXPECT_FALSE(h.contains(epoch("1795950000000")));
}

TEST(ParseEpoch, Errors) {
  for (const char* bad : {"", "-", ".", "abc", "1e", "1e+", "1.2.3", "12 ", " 12", "0x10", "1795946400Z",
                          "NaN", "1e30", "999999999999999999999999", "-99999999999999"}) {
    EXPECT_FALSE(parse_epoch_number_us(bad).ok()) << bad;
  }
}

TEST(FormatIso, Forms) {
  EXPECT_EQ(format_iso8601_us(kH10 + 15 * kMicrosPerMinute + 42'123'456), "2026-11-29T10:15:42.123456Z");
  EXPECT_EQ(format_iso8601_us(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_iso8601_us(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_iso8601_us(iso("0000-01-01T00:00:00Z")), "0000-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_iso8601_us(iso("9999-12-31T23:59:59.999999Z")), "9999-12-31T23:59:59.999999Z");
}

TEST(FormatIso, RoundTrip) {
  for (std::int64_t us = -3 * kMicrosPerDay; us < 40LL * 365 * kMicrosPerDay;
       us += 7'777'777'777'777LL / 1000) {
    ASSERT_EQ(iso(format_iso8601_us(us)), us);
  }
}

TEST(HourWindow, ParseForms) {
  for (const char* s : {"2026-11-29T10", "2026-11-29 10", "2026-11-29t10", "2026-11-29T10:00",
                        "2026-11-29T10:00:00", "2026-11-29T10:00:00Z", "2026-11-29T10:00:00+00:00"}) {
    auto h = HourWindow::parse_hour(s);
    ASSERT_TRUE(h.ok()) << s << ": " << h.error().message;
    EXPECT_EQ(h->start_us, kH10) << s;
  }
  for (const char* s : {"", "2026-11-29", "2026-11-29T1", "2026-11-29T10:30", "2026-11-29T10:00:01Z",
                        "2026-11-29T24", "2026-02-30T10", "2026-11-29T10Z", "2026-11-29T10:00:00+01:00",
                        "2026-11-29T10:00:00.5Z", "2026-11-29T10:", "2026-11-29T10 "}) {
    auto h = HourWindow::parse_hour(s);
    EXPECT_FALSE(h.ok()) << s;
    if (!h.ok()) {
      EXPECT_EQ(h.error().kind, ErrorKind::kInvalidArgument);
    }
  }
}

TEST(HourWindow, Arithmetic) {
  const HourWindow h{kH10};
  EXPECT_EQ(h.end_us(), kH10 + kMicrosPerHour);
  EXPECT_TRUE(h.contains(kH10));
  EXPECT_TRUE(h.contains(h.end_us() - 1));
  EXPECT_FALSE(h.contains(h.end_us()));
  EXPECT_FALSE(h.contains(kH10 - 1));
  EXPECT_EQ(h.next().start_us, h.end_us());
  EXPECT_EQ(h.next().prev(), h);
  EXPECT_LT(h, h.next());
  EXPECT_EQ(HourWindow::containing(kH10 + 5), h);
  EXPECT_EQ(HourWindow::containing(-1).start_us, -kMicrosPerHour);
  EXPECT_EQ(HourWindow::last_complete_hour(kH10 + kMicrosPerHour + 1), h);
  EXPECT_EQ(HourWindow::last_complete_hour(kH10 + kMicrosPerHour), h);
  EXPECT_EQ(HourWindow::last_complete_hour(kH10 + kMicrosPerHour - 1), h.prev());
}

TEST(HourWindow, Labels) {
  const HourWindow h{kH10};
  EXPECT_EQ(h.label(), "2026-11-29T10");
  EXPECT_EQ(h.key_date_part(), "2026-11-29-10");
  EXPECT_EQ(h.manifest_path_part(), "2026/11/29/10");
  const HourWindow midnight = *HourWindow::parse_hour("2026-01-01T00");
  EXPECT_EQ(midnight.prev().label(), "2025-12-31T23");
  EXPECT_EQ(midnight.prev().manifest_path_part(), "2025/12/31/23");
  EXPECT_EQ(*HourWindow::parse_hour(h.label()), h);
}

}  // namespace
}  // namespace es
