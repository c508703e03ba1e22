// The command-line layer of `eaglesense run`: which hours it picks, and how its settings are layered
// (defaults < config file < environment < flags). Offline: nothing here reaches a server.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/config.h"

namespace es::cli {
namespace {

const std::int64_t kNow = *parse_iso8601_us("2026-11-29T10:20:30Z");

std::vector<std::string> labels(const std::vector<HourWindow>& hours) {
  std::vector<std::string> out;
  for (const HourWindow& h : hours) out.push_back(h.label());
  return out;
}

std::vector<std::string> picked(const std::vector<std::string>& args, std::int64_t now = kNow) {
  CLI::App app;
  RunCommand run;
  run.add_to(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them back to front
  app.parse(reversed);
  auto hours = run.hours_at(now);
  EXPECT_TRUE(hours.ok()) << hours.error().to_string();
  return hours.ok() ? labels(*hours) : std::vector<std::string>{};
}

Error refused(const std::vector<std::string>& args) {
  CLI::App app;
  RunCommand run;
  run.add_to(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  auto hours = run.hours_at(kNow);
  EXPECT_FALSE(hours.ok()) << "accepted: " << (hours.ok() ? fmt::format("{}", labels(*hours).size()) : "");
  return hours.ok() ? Error{} : hours.error();
}

TEST(RunHours, PlainRunIsTheLastCompleteHour) {
  EXPECT_EQ(picked({}), std::vector<std::string>{"2026-11-29T09"});
  // On the hour exactly, the hour that just ended.
  EXPECT_EQ(picked({}, *parse_iso8601_us("2026-11-29T10:00:00Z")), std::vector<std::string>{"2026-11-29T09"});
  // Just before it, the one before.
  EXPECT_EQ(picked({}, *parse_iso8601_us("2026-11-29T09:59:59.999999Z")),
            std::vector<std::string>{"2026-11-29T08"});
}

TEST(RunHours, HourIsThatHour) {
  EXPECT_EQ(picked({"--hour", "2026-11-20T23"}), std::vector<std::string>{"2026-11-20T23"});
}

TEST(RunHours, FromToIsInclusiveAndCrossesDays) {
  EXPECT_EQ(picked({"--from", "2026-11-28T22", "--to", "2026-11-29T01"}),
            (std::vector<std::string>{"2026-11-28T22", "2026-11-28T23", "2026-11-29T00", "2026-11-29T01"}));
  EXPECT_EQ(picked({"--from", "2026-11-28T22", "--to", "2026-11-28T22"}),
            std::vector<std::string>{"2026-11-28T22"});
}

TEST(RunHours, CatchUpIsTheLastNCompleteHoursOldestFirst) {
  EXPECT_EQ(picked({"--catch-up", "1"}), std::vector<std::string>{"2026-11-29T09"});
  EXPECT_EQ(picked({"--catch-up", "3"}),
            (std::vector<std::string>{"2026-11-29T07", "2026-11-29T08", "2026-11-29T09"}));
  const auto day = picked({"--catch-up", "24"});
  ASSERT_EQ(day.size(), 24u);
  EXPECT_EQ(day.front(), "2026-11-28T10");
  EXPECT_EQ(day.back(), "2026-11-29T09");
}

TEST(RunHours, ContradictionsAndBadHoursNameTheOption) {
  EXPECT_EQ(refused({"--hour", "2026-11-29T09", "--catch-up", "2"}).resource,
            "--hour/--from/--to/--catch-up");
  EXPECT_EQ(refused({"--hour", "2026-11-29T09", "--from", "2026-11-29T08"}).resource,
            "--hour/--from/--to/--catch-up");
  EXPECT_EQ(refused({"--from", "2026-11-29T08"}).resource, "--from/--to");
  EXPECT_EQ(refused({"--from", "2026-11-29T08", "--to", "2026-11-29T07"}).resource, "--to");
  EXPECT_EQ(refused({"--from", "2025-11-29T08", "--to", "2026-11-30T09"}).resource, "--from/--to");
  EXPECT_TRUE(picked({"--from", "2025-11-29T10", "--to", "2026-11-29T09"}).size() ==
              8760u);  // a year is fine
  const Error bad = refused({"--hour", "2026-11-29T24"});
  EXPECT_EQ(bad.operation, "config");
  EXPECT_EQ(bad.resource, "--hour");
  EXPECT_EQ(refused({"--from", "yesterday", "--to", "2026-11-29T07"}).resource, "--from");
  EXPECT_EQ(refused({"--from", "2026-11-29T07", "--to", "2026-11-29"}).resource, "--to");
}

TEST(RunHours, CatchUpIsBounded) {
  CLI::App app;
  RunCommand run;
  run.add_to(app);
  EXPECT_THROW(app.parse(std::vector<std::string>{"0", "--catch-up"}), CLI::ValidationError);
  EXPECT_THROW(app.parse(std::vector<std::string>{"745", "--catch-up"}), CLI::ValidationError);
}

/// Sets (or, with nullopt, removes) an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

class SettingLayers : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("es-cli-test-{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->random_seed());
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "eaglesense.conf";
    std::ofstream(file_) << "# a comment\nDYNAMODB_TABLE_NAME=from-file\nEAGLESENSE_SEGMENTS=5\n"
                            "OUTPUT_FORMAT=csv\nLOG_LEVEL=debug\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// The configuration `eaglesense run ARGS` would use.
  Result<ExportConfig> config(const std::vector<std::string>& args) {
    CLI::App app;
    RunCommand run;
    run.add_to(app);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
    ES_ASSIGN_OR_RETURN(EnvLookup env, run.settings.environment());
    return load_export_config(env);
  }

  std::filesystem::path dir_, file_;
  // None of the settings below may leak in from the environment the test runs in.
  ScopedEnv table_{"DYNAMODB_TABLE_NAME", std::nullopt};
  ScopedEnv segments_{"EAGLESENSE_SEGMENTS", std::nullopt};
  ScopedEnv format_{"OUTPUT_FORMAT", std::nullopt};
  ScopedEnv log_level_{"LOG_LEVEL", std::nullopt};
  ScopedEnv config_{"EAGLESENSE_CONFIG", std::nullopt};
};

TEST_F(SettingLayers, DefaultsWhenNothingIsSet) {
  auto c = config({});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->table, "events");
  EXPECT_EQ(c->segments, 8);
  EXPECT_EQ(c->format, OutputFormat::kJson);
}

TEST_F(SettingLayers, FileOverDefaults) {
  auto c = config({"--config", file_.string()});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->table, "from-file");
  EXPECT_EQ(c->segments, 5);
  EXPECT_EQ(c->format, OutputFormat::kCsv);
  EXPECT_EQ(c->log_level, "debug");
}

TEST_F(SettingLayers, TheFileCanBeNamedByTheEnvironment) {
  ScopedEnv named("EAGLESENSE_CONFIG", file_.string());
  auto c = config({});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->table, "from-file");
}

TEST_F(SettingLayers, EnvironmentOverFile) {
  ScopedEnv table("DYNAMODB_TABLE_NAME", "from-env");
  ScopedEnv segments("EAGLESENSE_SEGMENTS", "6");
  auto c = config({"--config", file_.string()});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->table, "from-env");
  EXPECT_EQ(c->segments, 6);
  EXPECT_EQ(c->format, OutputFormat::kCsv);  // only in the file
}

TEST_F(SettingLayers, FlagsOverEverything) {
  ScopedEnv table("DYNAMODB_TABLE_NAME", "from-env");
  ScopedEnv segments("EAGLESENSE_SEGMENTS", "6");
  auto c = config({"--config", file_.string(), "--table", "from-flag", "--format", "ndjson"});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->table, "from-flag");
  EXPECT_EQ(c->format, OutputFormat::kNdjson);
  EXPECT_EQ(c->segments, 6);         // environment, no flag
  EXPECT_EQ(c->log_level, "debug");  // file only
}

TEST_F(SettingLayers, EveryFlagSetsItsSetting) {
  // Each setting's flag reaches the environment variable it names (a flag wired to the wrong
  // variable, or to none, fails here).
  for (const SettingSpec& spec : export_settings()) {
    CLI::App app;
    RunCommand run;
    run.add_to(app);
    app.parse(std::vector<std::string>{"sentinel-value", std::string(spec.flag)});
    auto env = run.settings.environment();
    ASSERT_TRUE(env.ok()) << env.error().to_string();
    EXPECT_EQ((*env)(spec.env).value_or(""), "sentinel-value") << spec.flag << " -> " << spec.env;
  }
}

TEST_F(SettingLayers, AMissingFileNamesTheSetting) {
  auto c = config({"--config", (dir_ / "absent.conf").string()});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().resource, "EAGLESENSE_CONFIG");
}

TEST_F(SettingLayers, ABadValueNamesItsSettingWhateverItsLayer) {
  {
    ScopedEnv bad("EAGLESENSE_SEGMENTS", "many");
    auto c = config({});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().resource, "EAGLESENSE_SEGMENTS");
  }
  auto c = config({"--format", "xml"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().resource, "OUTPUT_FORMAT");
}

}  // namespace
}  // namespace es::cli
