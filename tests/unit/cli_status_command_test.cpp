// The command-line layer of `eaglesense status`: which hours it shows (the last 24 complete hours by
// default) and the options it refuses. Offline: nothing here reaches a server.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/commands.h"

namespace es::cli {
namespace {

const std::int64_t kNow = *parse_iso8601_us("2026-11-29T10:20:30Z");

Result<std::vector<HourWindow>> hours_for(const std::vector<std::string>& args) {
  CLI::App app;
  StatusCommand status;
  status.add_to(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them back to front
  app.parse(reversed);
  return status.hours_at(kNow);
}

TEST(StatusHours, ByDefaultTheLast24CompleteHours) {
  auto hours = hours_for({});
  ASSERT_TRUE(hours.ok()) << hours.error().to_string();
  ASSERT_EQ(hours->size(), 24u);
  EXPECT_EQ(hours->front().label(), "2026-11-28T10");
  EXPECT_EQ(hours->back().label(), "2026-11-29T09");
}

TEST(StatusHours, FromAndToAreInclusive) {
  auto hours = hours_for({"--from", "2026-11-22T00", "--to", "2026-11-28T23"});
  ASSERT_TRUE(hours.ok()) << hours.error().to_string();
  EXPECT_EQ(hours->size(), 168u);
  auto from_only = hours_for({"--from", "2026-11-29T05"});
  ASSERT_TRUE(from_only.ok());
  EXPECT_EQ(from_only->size(), 5u) << "up to the last complete hour";
  auto to_only = hours_for({"--to", "2026-11-20T05"});
  ASSERT_TRUE(to_only.ok());
  EXPECT_EQ(to_only->size(), 24u);
  EXPECT_EQ(to_only->back().label(), "2026-11-20T05");
}

TEST(StatusHours, ABadRangeIsAConfigurationErrorNamingTheOption) {
  auto backwards = hours_for({"--from", "2026-11-29T05", "--to", "2026-11-29T04"});
  ASSERT_FALSE(backwards.ok());
  EXPECT_EQ(backwards.error().resource, "--to");
  EXPECT_EQ(backwards.error().operation, "config");
  auto bad = hours_for({"--from", "yesterday"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().resource, "--from");
  auto long_range = hours_for({"--from", "2024-01-01T00", "--to", "2026-01-01T00"});
  ASSERT_FALSE(long_range.ok());
}

TEST(StatusOptions, FormatIsOneOfTableJsonHtml) {
  CLI::App app;
  StatusCommand status;
  status.add_to(app);
  EXPECT_THROW(app.parse(std::vector<std::string>{"pdf", "--format"}), CLI::ValidationError);
}

}  // namespace
}  // namespace es::cli
