// The scan pre-filter hides nothing, evaluated by the servers themselves (dynalite on "local",
// moto_server on "moto"): for several hours H, a filtered Scan returns every item the exact check
// places in H and every item it cannot place in any hour. Thousands of generated time values:
// ISO-8601 forms with every separator, offset and fraction the parser accepts and many it refuses,
// digit strings, junk, numbers as seconds, milliseconds, microseconds and nanoseconds (negative,
// huge, with fractions and exponents), every other DynamoDB type, and no time at all.

#include "export/window_filter.h"

#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "aws/endpoint.h"
#include "core/json_writer.h"
#include "core/time.h"
#include "dynamodb/dynamodb_client.h"
#include "integration/support/test_env.h"

namespace es::exporter {
namespace {

/// Where the exact check (the transcoder's: parse_iso8601_us for S, parse_epoch_number_us for N)
/// puts an item: in an hour, or nowhere.
struct Placement {
  bool placeable = false;
  HourWindow hour;
};

struct Case {
  std::string id;
  std::string time_json;  ///< the time attribute as DynamoDB JSON; "" for none
  Placement placement;
};

std::string json_string(std::string_view s) {
  std::string out;
  json::append_string(out, s);
  return out;
}

Case string_case(std::string id, const std::string& text) {
  Case c{std::move(id), fmt::format(R"({{"S":{}}})", json_string(text)), {}};
  if (auto us = parse_iso8601_us(text); us.ok()) c.placement = {true, HourWindow::containing(*us)};
  return c;
}

Case number_case(std::string id, const std::string& digits) {
  Case c{std::move(id), fmt::format(R"({{"N":"{}"}})", digits), {}};
  if (auto us = parse_epoch_number_us(digits); us.ok()) c.placement = {true, HourWindow::containing(*us)};
  return c;
}

/// The generated values, around each of the hours the test filters for.
std::vector<Case> generate(const std::vector<HourWindow>& hours) {
  std::vector<Case> cases;
  std::mt19937_64 rng(20261206);
  int n = 0;
  const auto next_id = [&] { return fmt::format("t{:05}", n++); };
  const auto pick = [&](auto const& list) { return list[rng() % list.size()]; };

  // Instants near each hour (both edges, a microsecond either side, ±14 h offsets) and far away.
  std::vector<std::int64_t> instants;
  for (const HourWindow& h : hours) {
    for (std::int64_t d : std::initializer_list<std::int64_t>{
             0, 1LL, -1LL, kMicrosPerHour - 1, kMicrosPerHour, kMicrosPerHour / 2, -kMicrosPerHour,
             2 * kMicrosPerHour, 14 * kMicrosPerHour, -14 * kMicrosPerHour, kMicrosPerDay, -kMicrosPerDay}) {
      instants.push_back(h.start_us + d);
    }
  }
  for (int i = 0; i < 40; ++i) {
    instants.push_back(static_cast<std::int64_t>(rng() % 253402300799ULL) * kMicrosPerSecond);
  }

  // ISO forms: separators, fractions, zones (accepted and refused), and broken shapes.
  const std::vector<std::string> separators = {"T", "t", " ", "X", "_", "", "  "};
  const std::vector<std::string> zones = {"Z",      "z",     "+00:00", "-00:00", "+05:30", "-05:00", "+14:00",
                                          "-14:00", "+1400", "+05",    "-0530",  "+14:01", "+15:00", "",
                                          " Z",     "Z ",    "UTC",    "+5:30",  "+05:3",  "GMT"};
  for (std::int64_t us : instants) {
    for (int k = 0; k < 12; ++k) {
      const std::string iso = format_iso8601_us(us);  // "2026-11-29T10:15:42.123456Z"
      if (iso.size() != 27) continue;                 // a year beyond 9999
      std::string date = iso.substr(0, 10);
      std::string clock = iso.substr(11, 8);
      const std::size_t fraction_digits = rng() % 11;  // 0..10 (the parser takes 1..9)
      std::string fraction;
      if (fraction_digits > 0) fraction = "." + (iso.substr(20, 6) + "7654").substr(0, fraction_digits);
      cases.push_back(string_case(next_id(), date + pick(separators) + clock + fraction + pick(zones)));
    }
    // Basic format, other orders and other notations of the same instant.
    const std::string iso = format_iso8601_us(us);
    if (iso.size() != 27) continue;
    const std::string y = iso.substr(0, 4), mo = iso.substr(5, 2), d = iso.substr(8, 2),
                      h = iso.substr(11, 2), mi = iso.substr(14, 2), s = iso.substr(17, 2);
    for (const std::string& text : {y + mo + d + "T" + h + mi + s + "Z", y + mo + d + h + mi + s,
                                    d + "/" + mo + "/" + y + " " + h + ":" + mi, mo + "/" + d + "/" + y,
                                    y + "-" + mo + "-" + d, y + "-" + mo + "-" + d + "T" + h + ":" + mi + "Z",
                                    " " + iso, iso + " ", iso.substr(0, 19), iso + "junk"}) {
      cases.push_back(string_case(next_id(), text));
    }
    // Numbers: seconds, milliseconds, microseconds, nanoseconds; fractions, exponents, negatives.
    const std::int64_t secs = us / kMicrosPerSecond;
    for (const std::string& digits :
         {std::to_string(secs), std::to_string(secs * 1000 + 7), std::to_string(us),
          std::to_string(us) + "000", std::to_string(secs) + ".5", std::to_string(secs * 1000) + ".25",
          std::to_string(-secs), std::to_string(-secs * 1000), fmt::format("{}E+3", secs),
          fmt::format("{}E-3", secs * 1000)}) {
      cases.push_back(number_case(next_id(), digits));
    }
    // Digit strings, as a producer might write an epoch.
    cases.push_back(string_case(next_id(), std::to_string(secs)));
    cases.push_back(string_case(next_id(), std::to_string(secs * 1000)));
  }
  // Invalid calendar and clock values, leap seconds, out-of-range years.
  for (const std::string text :
       {"2026-02-29T10:00:00Z", "2028-02-29T10:00:00Z", "2026-11-31T10:00:00Z", "2026-11-29T24:00:00Z",
        "2026-11-29T10:60:00Z", "2026-11-29T10:00:60Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "10000-01-01T00:00:00Z",
        "-2026-11-29T10:00:00Z", "2026-11-29T10:00:00.Z", "2026-11-29T10:00:00,5Z", "2026-11-29T10:00Z",
        "2026-11-29T1:00:00Z"}) {
    cases.push_back(string_case(next_id(), text));
  }
  // Junk and edge strings.
  for (const std::string text :
       {"", " ", "abc", "now", "null", "0", "9", ":", "/", "~", "2026", "☃", "2026-11-29T10:00:00Z\n",
        "１７６４４１０７００", "1764410700", "-1764410700"}) {
    cases.push_back(string_case(next_id(), text));
  }
  // Numbers that no hour holds, or that sit at the edges of the units.
  for (const std::string digits : {"0",
                                   "-0",
                                   "1",
                                   "-1",
                                   "99999999999",
                                   "100000000000",
                                   "-99999999999",
                                   "-100000000000",
                                   "253402300799",
                                   "253402300799999",
                                   "253402300800000",
                                   "-62167219200",
                                   "-62167219201",
                                   "-62167219200000",
                                   "-62167219200001",
                                   "1E+125",
                                   "-1E+125",
                                   "1E-130",
                                   "0.000001",
                                   "12345678901234567890123456789012345678",
                                   "1764410700000000",
                                   "1764410700000000000",
                                   "1.7644107E+9",
                                   "1.7644107E+12",
                                   "1.7644107E+15"}) {
    cases.push_back(number_case(next_id(), digits));
  }
  // Every other type, and no time: never placeable.
  for (const std::string json :
       {R"({"BOOL":true})", R"({"NULL":true})", R"({"B":"AAEC"})", R"({"SS":["2026-11-29T10:00:00Z"]})",
        R"({"NS":["1764410700"]})", R"({"BS":["AAEC"]})", R"({"L":[{"S":"2026-11-29T10:00:00Z"}]})",
        R"({"M":{"t":{"S":"2026-11-29T10:00:00Z"}}})", ""}) {
    cases.push_back(Case{next_id(), json, {}});
  }
  return cases;
}

class WindowFilterIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { aws::global_http_init(); }

  void SetUp() override {
    env_ = es::testing::load_test_env();
    auto endpoint = aws::parse_endpoint(env_.dynamodb_endpoint, "AWS_ENDPOINT_URL_DYNAMODB");
    ASSERT_TRUE(endpoint.ok());
    auto ctx = std::make_shared<aws::ServiceContext>();
    ctx->endpoint = *endpoint;
    ctx->signing = aws::SigningParams{env_.region, "dynamodb", false};
    ctx->credentials =
        aws::make_static_credentials({env_.access_key, env_.secret_key, "", std::nullopt, "test"});
    ctx->retry = aws::make_standard_retry_policy(
        {5, std::chrono::milliseconds(20), std::chrono::milliseconds(50), std::chrono::milliseconds(1000)});
    ctx->sleeper = aws::real_sleeper();
    client_ = std::make_unique<dynamodb::DynamoDbClient>(ctx, aws::make_curl_http_client({}));
    table_ = es::testing::unique_name("winfilter");
    dynamodb::CreateTableRequest create;
    create.table = table_;
    create.hash = {"eventId", 'S'};
    const Status created = client_->create_table(create);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
  }

  void write(const std::vector<Case>& cases) {
    std::vector<std::string> items;
    for (const Case& c : cases) {
      items.push_back(c.time_json.empty()
                          ? fmt::format(R"({{"eventId":{{"S":"{}"}}}})", c.id)
                          : fmt::format(R"({{"eventId":{{"S":"{}"}},"time":{}}})", c.id, c.time_json));
    }
    for (std::size_t i = 0; i < items.size(); i += 500) {
      std::vector<std::string> batch(
          items.begin() + static_cast<std::ptrdiff_t>(i),
          items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + 500)));
      auto written = client_->batch_write(table_, batch);
      ASSERT_TRUE(written.ok()) << written.error().to_string();
      ASSERT_TRUE(written->unprocessed.empty());
    }
  }

  /// The eventIds a Scan with the window filter of h returns (every page).
  std::set<std::string> filtered_scan(const HourWindow& h) {
    const WindowFilter filter = make_window_filter(h, "time");
    dynamodb::ScanRequest scan;
    scan.table = table_;
    scan.filter_expression = filter.expression;
    scan.attributes = filter.attributes;
    std::set<std::string> ids;
    simdjson::dom::parser parser;
    for (;;) {
      auto page = client_->scan(scan);
      EXPECT_TRUE(page.ok()) << page.error().to_string();
      if (!page.ok()) return ids;
      simdjson::dom::element doc = parser.parse(page->body);
      for (simdjson::dom::element item : doc["Items"].get_array()) {
        ids.insert(std::string(std::string_view(item["eventId"]["S"])));
      }
      simdjson::dom::element last;
      if (doc["LastEvaluatedKey"].get(last) != simdjson::SUCCESS) break;
      scan.exclusive_start_key_json = simdjson::minify(last);
    }
    return ids;
  }

  es::testing::TestEnv env_;
  std::unique_ptr<dynamodb::DynamoDbClient> client_;
  std::string table_;
};

TEST_F(WindowFilterIntegration, HidesNothingThatIsInTheHourOrCannotBePlaced) {
  const std::vector<HourWindow> hours = {*HourWindow::parse_hour("2026-11-29T10"),
                                         *HourWindow::parse_hour("1970-01-01T00"),
                                         *HourWindow::parse_hour("9999-12-31T23")};
  const std::vector<Case> cases = generate(hours);
  ASSERT_GT(cases.size(), 2000u);
  write(cases);

  std::size_t unplaceable = 0;
  for (const Case& c : cases) unplaceable += c.placement.placeable ? 0 : 1;
  ASSERT_GT(unplaceable, 300u) << "the generator should refuse many values";

  for (const HourWindow& h : hours) {
    const std::set<std::string> returned = filtered_scan(h);
    std::size_t must = 0;
    std::size_t dropped = 0;
    for (const Case& c : cases) {
      const bool in_hour = c.placement.placeable && c.placement.hour == h;
      if (in_hour || !c.placement.placeable) {
        ++must;
        EXPECT_TRUE(returned.contains(c.id))
            << h.label() << ": the filter hides " << c.id << " (time "
            << (c.time_json.empty() ? "none" : c.time_json) << "), which the exact check "
            << (in_hour ? "places in this hour" : "cannot place");
      } else if (!returned.contains(c.id)) {
        ++dropped;
      }
    }
    EXPECT_GT(must, 0u);
    // The filter still narrows: numbers of other hours stay on the server.
    EXPECT_GT(dropped, 100u) << h.label() << ": the filter drops nothing";
  }
}

}  // namespace
}  // namespace es::exporter
