// Run metrics: the EMF record checked against the Embedded Metric Format specification's required
// fields, the PutMetricData datums and form body, and batching of PutMetricData calls.

#include <cmath>
#include <set>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "aws/cloudwatch_client.h"
#include "export/metrics.h"
#include "support/fake_http.h"

namespace es::exporter {
namespace {

using es::testing::FakeHttpClient;

const std::vector<std::string> kMetricNames = {
    "EventsRead",      "EventsDelivered", "EventsRejected", "EventsUndeliverable",
    "Clients",         "Objects",         "Bytes",          "DurationMs",
    "EventsPerSecond", "PeakRssBytes",    "Retries",        "ConsumedReadCapacity",
    "HoursExported",   "HoursFailed",     "HoursStopped",   "SourceShrank",
    "Redelivered",     "ReportsFailed"};

// The unit pattern of the specification's JSON schema (MetricDefinition.Unit).
const std::set<std::string> kCloudWatchUnits = {"Seconds",
                                                "Microseconds",
                                                "Milliseconds",
                                                "Bytes",
                                                "Kilobytes",
                                                "Megabytes",
                                                "Gigabytes",
                                                "Terabytes",
                                                "Bits",
                                                "Kilobits",
                                                "Megabits",
                                                "Gigabits",
                                                "Terabits",
                                                "Percent",
                                                "Count",
                                                "Bytes/Second",
                                                "Kilobytes/Second",
                                                "Megabytes/Second",
                                                "Gigabytes/Second",
                                                "Terabytes/Second",
                                                "Bits/Second",
                                                "Kilobits/Second",
                                                "Megabits/Second",
                                                "Gigabits/Second",
                                                "Terabits/Second",
                                                "Count/Second",
                                                "None"};

ManifestObject object(std::string client, ObjectStatus status) {
  ManifestObject o;
  o.client = std::move(client);
  o.bucket = "ce-" + o.client;
  o.key = "events-2026-11-29-10.json";
  o.status = status;
  return o;
}

RunSummary sample_summary() {
  RunSummary s;
  HourReport a;
  a.window = *HourWindow::parse_hour("2026-11-29T09");
  a.status = HourStatus::kExported;
  a.events_read = 1000;
  a.events_delivered = 990;
  a.events_rejected = 10;
  a.objects = 2;
  a.bytes = 123456;
  a.retries = 3;
  a.consumed_capacity = 12.5;
  a.objects_detail = {object("acme", ObjectStatus::kDelivered), object("beta", ObjectStatus::kDelivered)};
  HourReport b;
  b.window = *HourWindow::parse_hour("2026-11-29T10");
  b.status = HourStatus::kUndeliverable;
  b.events_read = 500;
  b.events_delivered = 400;
  b.events_undeliverable = 100;
  b.objects = 1;
  b.bytes = 1000;
  b.retries = 2;
  b.consumed_capacity = 0.5;
  b.objects_detail = {object("acme", ObjectStatus::kDelivered), object("gone", ObjectStatus::kUndeliverable)};
  HourReport c;
  c.window = *HourWindow::parse_hour("2026-11-29T08");
  c.status = HourStatus::kSkipped;
  HourReport d;
  d.window = *HourWindow::parse_hour("2026-11-29T07");
  d.status = HourStatus::kFailed;
  s.hours = {a, b, c, d};
  s.duration_ms = 3000;
  s.peak_rss_bytes = 50 << 20;
  return s;
}

/// Checks a record against the specification; returns the first violation, or "".
std::string emf_violation(const std::string& line) {
  if (line.find('\n') != std::string::npos) return "a record must be one log event: no newline";
  if (line.size() > 256 * 1024) return "larger than a log event may be";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(line).get(root) != simdjson::SUCCESS) return "not JSON";
  if (!root.is_object()) return "root is not an object";
  simdjson::dom::object aws;
  if (root["_aws"].get(aws) != simdjson::SUCCESS) return "_aws missing or not an object";
  simdjson::dom::element timestamp;
  if (aws["Timestamp"].get(timestamp) != simdjson::SUCCESS) return "_aws.Timestamp missing";
  if (!timestamp.is_int64() && !timestamp.is_uint64()) return "_aws.Timestamp is not an integer";
  simdjson::dom::array directives;
  if (aws["CloudWatchMetrics"].get(directives) != simdjson::SUCCESS) return "CloudWatchMetrics missing";
  if (directives.size() == 0) return "CloudWatchMetrics is empty";
  for (simdjson::dom::element directive : directives) {
    std::string_view ns;
    if (directive["Namespace"].get(ns) != simdjson::SUCCESS) return "Namespace missing";
    if (ns.empty() || ns.size() > 255) return "Namespace length";
    simdjson::dom::array dimension_sets;
    if (directive["Dimensions"].get(dimension_sets) != simdjson::SUCCESS) return "Dimensions missing";
    if (dimension_sets.size() == 0) return "Dimensions needs at least one DimensionSet";
    for (simdjson::dom::element set : dimension_sets) {
      simdjson::dom::array keys;
      if (set.get(keys) != simdjson::SUCCESS) return "a DimensionSet is not an array";
      if (keys.size() > 9) return "a DimensionSet has more than 9 keys";
      for (simdjson::dom::element key : keys) {
        std::string_view name;
        if (key.get(name) != simdjson::SUCCESS) return "a dimension key is not a string";
        std::string_view target;
        if (root[name].get(target) != simdjson::SUCCESS)
          return "a dimension target is missing or not a string";
      }
    }
    simdjson::dom::array metrics;
    if (directive["Metrics"].get(metrics) != simdjson::SUCCESS) return "Metrics missing";
    if (metrics.size() > 100) return "more than 100 MetricDefinitions";
    for (simdjson::dom::element metric : metrics) {
      std::string_view name;
      if (metric["Name"].get(name) != simdjson::SUCCESS) return "a MetricDefinition has no Name";
      std::string_view unit;
      if (metric["Unit"].get(unit) == simdjson::SUCCESS && !kCloudWatchUnits.contains(std::string(unit))) {
        return "unit " + std::string(unit) + " is not a CloudWatch unit";
      }
      simdjson::dom::element target;
      if (root[name].get(target) != simdjson::SUCCESS)
        return "no top-level member for metric " + std::string(name);
      if (!target.is_number()) return "metric " + std::string(name) + " is not a number";
    }
  }
  return "";
}

TEST(RunMetrics, AreTheFourteenNamesWithTotals) {
  const auto metrics = run_metrics(sample_summary());
  ASSERT_EQ(metrics.size(), kMetricNames.size());
  std::map<std::string, double> by_name;
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    EXPECT_EQ(metrics[i].name, kMetricNames[i]);
    by_name[std::string(metrics[i].name)] = metrics[i].value;
  }
  EXPECT_EQ(by_name["EventsRead"], 1500);
  EXPECT_EQ(by_name["EventsDelivered"], 1390);
  EXPECT_EQ(by_name["EventsRejected"], 10);
  EXPECT_EQ(by_name["EventsUndeliverable"], 100);
  EXPECT_EQ(by_name["Clients"], 3);  // acme, beta, gone
  EXPECT_EQ(by_name["Objects"], 3);
  EXPECT_EQ(by_name["Bytes"], 124456);
  EXPECT_EQ(by_name["DurationMs"], 3000);
  EXPECT_EQ(by_name["EventsPerSecond"], 500);
  EXPECT_EQ(by_name["PeakRssBytes"], 50 << 20);
  EXPECT_EQ(by_name["Retries"], 5);
  EXPECT_EQ(by_name["ConsumedReadCapacity"], 13);
  EXPECT_EQ(by_name["HoursExported"], 2);  // exported and undeliverable; not skipped, not failed
  EXPECT_EQ(by_name["HoursFailed"], 1);
}

TEST(RunMetrics, EmptyRunHasZerosAndNoDivisionByZero) {
  RunSummary empty;
  for (const RunMetric& m : run_metrics(empty)) {
    EXPECT_TRUE(std::isfinite(m.value)) << m.name;
    EXPECT_EQ(m.value, 0) << m.name;
  }
}

TEST(EmfRecord, MeetsTheSpecificationWithFunctionDimension) {
  const std::string line = render_emf(sample_summary(), {1795946700123, "eaglesense-prod", "req-1"});
  EXPECT_EQ(emf_violation(line), "") << line;
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(line);
  EXPECT_EQ(std::int64_t(root["_aws"]["Timestamp"]), 1795946700123);
  simdjson::dom::element directive = root["_aws"]["CloudWatchMetrics"].at(0);
  EXPECT_EQ(std::string_view(directive["Namespace"]), "EagleSense");
  EXPECT_EQ(simdjson::minify(directive["Dimensions"]), R"([["FunctionName"]])");
  EXPECT_EQ(std::string_view(root["FunctionName"]), "eaglesense-prod");
  EXPECT_EQ(std::string_view(root["RequestId"]), "req-1");
  std::vector<std::string> names;
  for (simdjson::dom::element m : directive["Metrics"].get_array()) {
    names.emplace_back(std::string_view(m["Name"]));
  }
  EXPECT_EQ(names, kMetricNames);
  EXPECT_EQ(double(root["EventsRead"]), 1500);
  EXPECT_EQ(double(root["ConsumedReadCapacity"]), 13);
  EXPECT_EQ(std::string_view(directive["Metrics"].at(7)["Unit"]), "Milliseconds");
}

TEST(EmfRecord, WithoutFunctionNameHasOneEmptyDimensionSet) {
  const std::string line = render_emf(sample_summary(), {1795946700000, "", ""});
  EXPECT_EQ(emf_violation(line), "") << line;
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(line);
  EXPECT_EQ(simdjson::minify(root["_aws"]["CloudWatchMetrics"].at(0)["Dimensions"]), "[[]]");
  EXPECT_EQ(root["FunctionName"].error(), simdjson::NO_SUCH_FIELD);
}

TEST(EmfRecord, TheValidatorCatchesBrokenRecords) {
  // The checks above are only worth something if the validator rejects what the spec forbids.
  EXPECT_NE(emf_violation(R"({"_aws":{"Timestamp":1.5,"CloudWatchMetrics":[]}})"), "");
  EXPECT_NE(
      emf_violation(R"({"_aws":{"CloudWatchMetrics":[{"Namespace":"x","Dimensions":[[]],"Metrics":[]}]}})"),
      "");
  EXPECT_NE(
      emf_violation(
          R"({"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"x","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]}})"),
      "");
  EXPECT_NE(
      emf_violation(
          R"({"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"x","Dimensions":[["F"]],"Metrics":[]}]}})"),
      "");
  EXPECT_NE(
      emf_violation(
          R"({"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"x","Dimensions":[[]],"Metrics":[{"Name":"A","Unit":"Things"}]}]},"A":1})"),
      "");
  EXPECT_EQ(
      emf_violation(
          R"({"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"x","Dimensions":[[]],"Metrics":[{"Name":"A","Unit":"Count"}]}]},"A":1})"),
      "");
}

TEST(MetricData, CarriesTheSameValuesAndTheDimension) {
  const auto data = metric_data(sample_summary(), {1795946700123, "fn", ""});
  ASSERT_EQ(data.size(), kMetricNames.size());
  EXPECT_EQ(data[0].name, "EventsRead");
  EXPECT_EQ(data[0].value, 1500);
  EXPECT_EQ(data[0].unit, "Count");
  EXPECT_EQ(data[0].timestamp_ms, 1795946700123);
  ASSERT_EQ(data[0].dimensions.size(), 1u);
  EXPECT_EQ(data[0].dimensions[0], (std::pair<std::string, std::string>{"FunctionName", "fn"}));
  EXPECT_TRUE(metric_data(sample_summary(), {1, "", ""})[0].dimensions.empty());
}

TEST(PutMetricDataBody, IsTheQueryProtocolForm) {
  std::vector<aws::MetricDatum> data(2);
  data[0] = {"EventsRead", 1500, "Count", {{"FunctionName", "my fn"}}, 1795946700123};
  data[1] = {"EventsPerSecond", 0.5, "Count/Second", {}, std::nullopt};
  EXPECT_EQ(aws::put_metric_data_body("EagleSense", data),
            "Action=PutMetricData&Version=2010-08-01&Namespace=EagleSense"
            "&MetricData.member.1.MetricName=EventsRead&MetricData.member.1.Value=1500"
            "&MetricData.member.1.Unit=Count&MetricData.member.1.Timestamp=2026-11-29T10%3A05%3A00.123000Z"
            "&MetricData.member.1.Dimensions.member.1.Name=FunctionName"
            "&MetricData.member.1.Dimensions.member.1.Value=my%20fn"
            "&MetricData.member.2.MetricName=EventsPerSecond&MetricData.member.2.Value=0.5"
            "&MetricData.member.2.Unit=Count%2FSecond");
}

struct CloudWatchFixture {
  std::shared_ptr<aws::ServiceContext> context = std::make_shared<aws::ServiceContext>();
  FakeHttpClient* http = nullptr;
  std::unique_ptr<aws::CloudWatchClient> client;

  CloudWatchFixture() {
    context->endpoint = aws::Endpoint{"http", "127.0.0.1", 5000, true};
    context->signing = aws::SigningParams{"us-east-1", "monitoring", false};
    context->credentials = aws::make_static_credentials({"AKIDTEST", "secret", "", std::nullopt, "test"});
    context->retry = aws::make_no_delay_retry_policy(2);
    context->sleeper = [](std::chrono::milliseconds) {};
    auto fake = std::make_unique<FakeHttpClient>();
    http = fake.get();
    client = std::make_unique<aws::CloudWatchClient>(context, std::move(fake));
  }
};

TEST(CloudWatchClient, SendsAtMostAThousandValuesPerSignedCall) {
  CloudWatchFixture f;
  for (int i = 0; i < 3; ++i) f.http->reply(200, "<PutMetricDataResponse/>");
  std::vector<aws::MetricDatum> data(2500);
  for (std::size_t i = 0; i < data.size(); ++i) data[i].name = "M" + std::to_string(i);
  auto calls = f.client->put_metric_data("EagleSense", data);
  ASSERT_TRUE(calls.ok()) << calls.error().to_string();
  EXPECT_EQ(*calls, 3u);
  ASSERT_EQ(f.http->requests.size(), 3u);
  const auto count_members = [](const std::string& body) {
    std::size_t n = 0;
    for (auto pos = body.find("MetricName="); pos != std::string::npos;
         pos = body.find("MetricName=", pos + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count_members(f.http->requests[0].body), 1000u);
  EXPECT_EQ(count_members(f.http->requests[1].body), 1000u);
  EXPECT_EQ(count_members(f.http->requests[2].body), 500u);
  // The third call numbers its members from 1 again.
  EXPECT_NE(f.http->requests[2].body.find("MetricData.member.1.MetricName=M2000&"), std::string::npos);
  const auto& r = f.http->requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:5000/");
  EXPECT_EQ(r.header("Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_NE(r.header("Authorization").find("/us-east-1/monitoring/aws4_request"), std::string::npos);
}

TEST(CloudWatchClient, ReportsTheQueryProtocolError) {
  CloudWatchFixture f;
  f.http->reply(
      400,
      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>"
      "<Message>The value NaN is invalid.</Message></Error><RequestId>rid-7</RequestId></ErrorResponse>");
  std::vector<aws::MetricDatum> data(1);
  data[0].name = "A";
  auto calls = f.client->put_metric_data("EagleSense", data);
  ASSERT_FALSE(calls.ok());
  EXPECT_EQ(calls.error().code, "InvalidParameterValue");
  EXPECT_EQ(calls.error().operation, "CloudWatch.PutMetricData");
  EXPECT_EQ(calls.error().request_id, "rid-7");
  EXPECT_FALSE(calls.error().retryable);
}

TEST(CloudWatchClient, RefusesNonFiniteValuesWithoutSending) {
  CloudWatchFixture f;
  std::vector<aws::MetricDatum> data(1);
  data[0].name = "A";
  data[0].value = std::nan("");
  auto calls = f.client->put_metric_data("EagleSense", data);
  ASSERT_FALSE(calls.ok());
  EXPECT_EQ(calls.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(f.http->requests.empty());
}

TEST(MetricsSetting, IsReadAndValidated) {
  auto unset = load_export_config(map_environment({}));
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->metrics.has_value());  // each command picks its default
  for (auto [text, mode] : {std::pair{"none", MetricsMode::kNone}, std::pair{"emf", MetricsMode::kEmf},
                            std::pair{"cloudwatch", MetricsMode::kCloudWatch}}) {
    auto c = load_export_config(map_environment({{"EAGLESENSE_METRICS", text}}));
    ASSERT_TRUE(c.ok()) << text;
    EXPECT_EQ(c->metrics, mode);
    EXPECT_EQ(to_string(mode), text);
  }
  auto bad = load_export_config(map_environment({{"EAGLESENSE_METRICS", "statsd"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().resource, "EAGLESENSE_METRICS");
  EXPECT_NE(bad.error().message.find("none, emf, cloudwatch"), std::string::npos) << bad.error().message;
}

TEST(MetricsPublisher, EmfModeWritesOneFlushedLine) {
  auto publisher = MetricsPublisher::make(MetricsMode::kEmf, map_environment({}), ExportConfig{});
  ASSERT_TRUE(publisher.ok());
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  ASSERT_TRUE((*publisher)->publish(sample_summary(), {1795946700000, "fn", ""}, out).ok());
  std::fclose(out);
  const std::string text(buffer, size);
  std::free(buffer);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  EXPECT_EQ(emf_violation(text.substr(0, text.size() - 1)), "");
}

TEST(MetricsPublisher, NoneModeWritesNothing) {
  auto publisher = MetricsPublisher::make(MetricsMode::kNone, map_environment({}), ExportConfig{});
  ASSERT_TRUE(publisher.ok());
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  ASSERT_TRUE((*publisher)->publish(sample_summary(), {1, "", ""}, out).ok());
  std::fclose(out);
  EXPECT_EQ(size, 0u);
  std::free(buffer);
}

TEST(MetricsPublisher, CloudWatchModeChecksTheEndpointSetting) {
  auto publisher = MetricsPublisher::make(MetricsMode::kCloudWatch,
                                          map_environment({{"AWS_ENDPOINT_URL_CLOUDWATCH", "ftp://nope"}}),
                                          ExportConfig{});
  ASSERT_FALSE(publisher.ok());
  EXPECT_EQ(publisher.error().resource, "AWS_ENDPOINT_URL_CLOUDWATCH");
}

}  // namespace
}  // namespace es::exporter
