// Settings: defaults, validation that names the setting, client id and bucket rules, config files.

#include <gtest/gtest.h>

#include "core/config.h"

namespace es {
namespace {

Result<ExportConfig> load(std::map<std::string, std::string, std::less<>> values) {
  return load_export_config(map_environment(std::move(values)));
}

TEST(ExportConfig, DefaultsMatchTheDocumentedOnes) {
  auto c = load({});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->table, "events");
  EXPECT_EQ(c->bucket_prefix, "client-events");
  EXPECT_EQ(c->ops_bucket, "client-events-ops");
  EXPECT_EQ(c->format, OutputFormat::kJson);
  EXPECT_EQ(c->segments, 8);
  EXPECT_EQ(c->upload_concurrency, 16);
  EXPECT_EQ(c->required_attrs, (std::vector<std::string>{"eventId", "clientId", "time"}));
  EXPECT_EQ(c->client_bucket("acme"), "client-events-acme");
  EXPECT_EQ(c->object_key("2026-11-29-10"), "events-2026-11-29-10.json");
  for (const SettingSpec& s : export_settings()) {
    EXPECT_FALSE(s.env.empty());
    EXPECT_TRUE(s.flag.starts_with("--")) << s.flag;
  }
}

TEST(ExportConfig, KeysFollowFormatAndCompression) {
  auto c = load({{"OUTPUT_FORMAT", "ndjson"}, {"EAGLESENSE_COMPRESSION", "zstd"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->object_key("2026-11-29-10"), "events-2026-11-29-10.ndjson.zst");
  auto g = load({{"OUTPUT_FORMAT", "json"}, {"EAGLESENSE_COMPRESSION", "gzip"}});
  EXPECT_EQ(g->object_key("2026-11-29-10"), "events-2026-11-29-10.json.gz");
}

struct BadValue {
  std::string setting;
  std::string value;
  std::string says;
};

class ExportConfigErrors : public ::testing::TestWithParam<BadValue> {};

TEST_P(ExportConfigErrors, NameTheSettingAndWhatIsAllowed) {
  const BadValue& p = GetParam();
  auto c = load({{p.setting, p.value}});
  ASSERT_FALSE(c.ok()) << p.setting << "=" << p.value;
  EXPECT_EQ(c.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(c.error().resource, p.setting);
  const std::string text = c.error().to_string();
  EXPECT_NE(text.find(p.setting), std::string::npos) << text;
  EXPECT_NE(text.find(p.says), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(
    All, ExportConfigErrors,
    ::testing::Values(BadValue{"OUTPUT_FORMAT", "xml", "json, ndjson, csv"},
                      BadValue{"EAGLESENSE_COMPRESSION", "lz4", "none, gzip, zstd"},
                      BadValue{"EAGLESENSE_SEGMENTS", "0", "from 1 to 1000"},
                      BadValue{"EAGLESENSE_SEGMENTS", "8x", "whole number"},
                      BadValue{"EAGLESENSE_UPLOAD_CONCURRENCY", "-1", "from 1 to 256"},
                      BadValue{"EAGLESENSE_SSE", "aes", "AES256, aws:kms"},
                      BadValue{"EAGLESENSE_KMS_KEY_ID", "alias/x", "EAGLESENSE_SSE=aws:kms"},
                      BadValue{"EAGLESENSE_EXPECTED_BUCKET_OWNER", "12345", "12-digit"},
                      BadValue{"S3_BUCKET_PREFIX", "Client_Events", "a-z, 0-9"},
                      BadValue{"EAGLESENSE_OPS_BUCKET", "x", "3 to 63"},
                      BadValue{"DYNAMODB_TABLE_NAME", "a b", "table name"},
                      BadValue{"LOG_LEVEL", "loud", "debug, info"},
                      BadValue{"EAGLESENSE_READ_MODE", "index", "scan, query"},
                      BadValue{"EAGLESENSE_INSECURE_TLS", "maybe", "true or false"},
                      BadValue{"EAGLESENSE_REQUIRED_ATTRS", "eventId,,time", "empty name"},
                      BadValue{"EAGLESENSE_PART_SIZE_MB", "1", "from 5 to 5000"},
                      BadValue{"EAGLESENSE_MEMORY_MB", "8", "from 16 to 1048576"},
                      BadValue{"EAGLESENSE_LEASE_SECONDS", "5", "from 10 to 86400"},
                      BadValue{"EAGLESENSE_LEASE_SECONDS", "1h", "whole number"}));

TEST(ExportConfig, LeaseSecondsAreUnsetUntilGiven) {
  auto unset = load({});
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->lease_seconds.has_value());  // each command picks its default
  auto set = load({{"EAGLESENSE_LEASE_SECONDS", "900"}});
  ASSERT_TRUE(set.ok()) << set.error().to_string();
  EXPECT_EQ(set->lease_seconds, 900);
}

TEST(ClientIds, AcceptBucketSafeIds) {
  for (std::string_view id : {"acme", "client-007", "a1", "acme.eu"}) {
    EXPECT_EQ(validate_client_id(id, "client-events"), std::nullopt) << id;
  }
}

TEST(ClientIds, RejectUnsafeIdsWithAReason) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "empty"},
      {"../etc", "path separator"},
      {"a/b", "path separator"},
      {"a..b", "'..'"},
      {"Acme", "upper case"},
      {"ac\nme", "control character"},
      {"acme-", "start and end"},
      {"acme_corp", "a-z, 0-9"},
      {std::string_view("this-client-id-is-far-too-long-to-fit-in-a-bucket-name-at-all"), "3 to 63"},
      {"x--ol-s3", "reserves"},
  };
  for (const auto& [id, says] : cases) {
    auto why = validate_client_id(id, "client-events");
    ASSERT_TRUE(why.has_value()) << id;
    EXPECT_NE(why->find(says), std::string::npos) << id << ": " << *why;
  }
}

TEST(ClientIds, NoClientWritesIntoTheOpsBucketOrAReservedOne) {
  auto c = load({{"S3_BUCKET_PREFIX", "acme-events"},
                 {"EAGLESENSE_RESERVED_BUCKETS", "acme-events-artifacts, acme-events-billing"}});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->reserved_buckets, (std::vector<std::string>{"acme-events-artifacts", "acme-events-billing"}));
  EXPECT_EQ(c->reserved_bucket_reason("beta"), std::nullopt);
  auto ops = c->reserved_bucket_reason("ops");  // acme-events-ops, the default ops bucket
  ASSERT_TRUE(ops.has_value());
  EXPECT_NE(ops->find("ops bucket acme-events-ops"), std::string::npos) << *ops;
  EXPECT_TRUE(c->reserved_bucket_reason("artifacts").has_value());
  EXPECT_TRUE(c->reserved_bucket_reason("billing").has_value());
  // An ops bucket of its own name: "ops" is an ordinary client then, and that bucket is protected.
  auto other = load({{"S3_BUCKET_PREFIX", "acme-events"}, {"EAGLESENSE_OPS_BUCKET", "acme-events-audit"}});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->reserved_bucket_reason("ops"), std::nullopt);
  EXPECT_TRUE(other->reserved_bucket_reason("audit").has_value());
  auto bad = load({{"EAGLESENSE_RESERVED_BUCKETS", "ok-bucket,Not_A_Bucket"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().resource, "EAGLESENSE_RESERVED_BUCKETS");
}

TEST(AllowList, InlineListOfValidatedIds) {
  auto c = load({{"EAGLESENSE_CLIENTS", " acme, beta ,acme"}});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  ASSERT_TRUE(c->allowed_clients.has_value());
  EXPECT_EQ(*c->allowed_clients, (std::set<std::string, std::less<>>{"acme", "beta"}));
  EXPECT_TRUE(c->clients_object.empty());
  EXPECT_EQ(c->client_not_allowed_reason("acme"), std::nullopt);
  auto why = c->client_not_allowed_reason("gamma");
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("'gamma'"), std::string::npos) << *why;
  // Unset: every valid client.
  auto all = load({});
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->allowed_clients.has_value());
  EXPECT_EQ(all->client_not_allowed_reason("gamma"), std::nullopt);
  for (const char* bad : {"acme,Beta", "acme,a/b", ",", " # nothing"}) {
    auto r = load({{"EAGLESENSE_CLIENTS", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().resource, "EAGLESENSE_CLIENTS") << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST(AllowList, ObjectFormIsNamedAtLoadAndParsedFromItsText) {
  auto c = load({{"EAGLESENSE_CLIENTS", "s3://client-events-ops/config/clients.txt"}});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->clients_object, "s3://client-events-ops/config/clients.txt");
  EXPECT_FALSE(c->allowed_clients.has_value());  // read by the run, from S3
  for (const char* bad : {"s3://", "s3://bucket", "s3://bucket/", "s3://Bad_Bucket/key"}) {
    auto r = load({{"EAGLESENSE_CLIENTS", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().resource, "EAGLESENSE_CLIENTS") << bad;
  }
  auto parsed =
      parse_client_list("# onboarded\nacme\n\nbeta, gamma  # since 2026-11\r\n", "ce", "EAGLESENSE_CLIENTS");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, (std::set<std::string, std::less<>>{"acme", "beta", "gamma"}));
  auto bad = parse_client_list("acme\nBeta\n", "ce", "EAGLESENSE_CLIENTS");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().resource, "EAGLESENSE_CLIENTS");
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_client_list("# empty\n", "ce", "EAGLESENSE_CLIENTS").ok());
}

TEST(BucketOwner, OpsOwnerDefaultsToTheExpectedOneAndNoneTurnsItOff) {
  auto c = load({{"EAGLESENSE_EXPECTED_BUCKET_OWNER", "111122223333"}});
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->bucket_owner("client-events-acme"), "111122223333");
  EXPECT_EQ(c->bucket_owner("client-events-ops"), "111122223333");
  auto split = load({{"EAGLESENSE_EXPECTED_BUCKET_OWNER", "111122223333"},
                     {"EAGLESENSE_OPS_BUCKET_OWNER", "444455556666"}});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->bucket_owner("client-events-acme"), "111122223333");
  EXPECT_EQ(split->bucket_owner("client-events-ops"), "444455556666");
  auto off = load({{"EAGLESENSE_EXPECTED_BUCKET_OWNER", "none"}});
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->expected_bucket_owner_given);
  EXPECT_EQ(off->expected_bucket_owner, "");
  auto bad = load({{"EAGLESENSE_OPS_BUCKET_OWNER", "12345"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().resource, "EAGLESENSE_OPS_BUCKET_OWNER");

  // The Lambda's default (its own account) fills only what was not given.
  ExportConfig unset = *load({});
  unset.default_bucket_owner("999988887777");
  EXPECT_EQ(unset.expected_bucket_owner, "999988887777");
  EXPECT_EQ(unset.ops_bucket_owner, "999988887777");
  ExportConfig given = *off;
  given.default_bucket_owner("999988887777");
  EXPECT_EQ(given.expected_bucket_owner, "");
  EXPECT_EQ(given.ops_bucket_owner, "");
  ExportConfig ops_given = *load({{"EAGLESENSE_OPS_BUCKET_OWNER", "444455556666"}});
  ops_given.default_bucket_owner("999988887777");
  EXPECT_EQ(ops_given.expected_bucket_owner, "999988887777");
  EXPECT_EQ(ops_given.ops_bucket_owner, "444455556666");
}

TEST(ConsistentRead, ScanModeOnly) {
  auto scan = load({{"EAGLESENSE_CONSISTENT_READ", "true"}});
  ASSERT_TRUE(scan.ok()) << scan.error().to_string();
  EXPECT_TRUE(scan->consistent_read);
  EXPECT_FALSE(load({})->consistent_read);
  auto query = load({{"EAGLESENSE_CONSISTENT_READ", "true"}, {"EAGLESENSE_READ_MODE", "query"}});
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().resource, "EAGLESENSE_CONSISTENT_READ");
  auto bad = load({{"EAGLESENSE_CONSISTENT_READ", "yes please"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().resource, "EAGLESENSE_CONSISTENT_READ");
}

TEST(InsecureTls, OnlyWhenEveryEndpointIsALoopbackAddress) {
  const std::map<std::string, std::string, std::less<>> local = {
      {"EAGLESENSE_INSECURE_TLS", "true"},
      {"AWS_ENDPOINT_URL_DYNAMODB", "https://127.0.0.1:8000"},
      {"AWS_ENDPOINT_URL_S3", "https://localhost:9000/"}};
  auto ok = load(local);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_TRUE(ok->insecure_tls);
  EXPECT_TRUE(load({{"EAGLESENSE_INSECURE_TLS", "true"}, {"AWS_ENDPOINT_URL", "https://[::1]:4566"}}).ok());

  // AWS itself (no endpoint set), another host, or a loopback look-alike: refused, naming the setting.
  for (const auto& values : std::vector<std::map<std::string, std::string, std::less<>>>{
           {{"EAGLESENSE_INSECURE_TLS", "true"}},
           {{"EAGLESENSE_INSECURE_TLS", "true"}, {"AWS_ENDPOINT_URL_DYNAMODB", "https://127.0.0.1:8000"}},
           {{"EAGLESENSE_INSECURE_TLS", "true"}, {"AWS_ENDPOINT_URL", "https://s3.eu-west-1.amazonaws.com"}},
           {{"EAGLESENSE_INSECURE_TLS", "true"}, {"AWS_ENDPOINT_URL", "https://127.0.0.1.example.com"}},
           {{"EAGLESENSE_INSECURE_TLS", "true"}, {"AWS_ENDPOINT_URL", "https://10.0.0.5:9000"}},
           {{"EAGLESENSE_INSECURE_TLS", "true"}, {"AWS_ENDPOINT_URL", "https://localhost.evil:9000"}}}) {
    auto refused = load(values);
    ASSERT_FALSE(refused.ok()) << values.size();
    EXPECT_EQ(refused.error().resource, "EAGLESENSE_INSECURE_TLS");
    EXPECT_NE(refused.error().message.find("loopback"), std::string::npos) << refused.error().message;
  }
  // With PutMetricData, the CloudWatch endpoint must be local too.
  auto metrics = local;
  metrics["EAGLESENSE_METRICS"] = "cloudwatch";
  EXPECT_FALSE(load(metrics).ok());
  metrics["AWS_ENDPOINT_URL_CLOUDWATCH"] = "http://127.0.0.2:4566";
  EXPECT_TRUE(load(metrics).ok());
}

// EAGLESENSE_STATE_MACHINE_ARN: a state machine's ARN or a configuration error naming the setting; with
// insecure TLS, the Step Functions endpoint must be local too.
TEST(StateMachineArn, IsAStateMachineArn) {
  const std::string arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:es-prod_export-1";
  auto ok = load({{"EAGLESENSE_STATE_MACHINE_ARN", arn}});
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->state_machine_arn, arn);
  EXPECT_TRUE(load({})->state_machine_arn.empty());
  for (const char* bad : {"es-export", "arn:aws:states:eu-west-1:123456789012:execution:es-export:x",
                          "arn:aws:states:eu-west-1:12345:stateMachine:es",
                          "arn:aws:lambda:eu-west-1:123456789012:stateMachine:es",
                          "arn:aws:states:eu-west-1:123456789012:stateMachine:",
                          "arn:aws:states:eu-west-1:123456789012:stateMachine:a/b"}) {
    auto refused = load({{"EAGLESENSE_STATE_MACHINE_ARN", bad}});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().resource, "EAGLESENSE_STATE_MACHINE_ARN") << bad;
  }
  const std::map<std::string, std::string, std::less<>> insecure = {
      {"EAGLESENSE_INSECURE_TLS", "true"},
      {"AWS_ENDPOINT_URL_DYNAMODB", "https://127.0.0.1:8000"},
      {"AWS_ENDPOINT_URL_S3", "https://127.0.0.1:9000"},
      {"EAGLESENSE_STATE_MACHINE_ARN", arn}};
  EXPECT_FALSE(load(insecure).ok());
  auto local = insecure;
  local["AWS_ENDPOINT_URL_SFN"] = "https://127.0.0.1:4566";
  EXPECT_TRUE(load(local).ok());
}

TEST(InsecureTls, LoopbackEndpoints) {
  for (const char* url : {"http://127.0.0.1:8000", "https://127.255.0.9", "http://localhost",
                          "http://LOCALHOST:1/x", "http://[::1]:9000", "http://user@127.0.0.1:80/"}) {
    EXPECT_TRUE(is_loopback_endpoint(url)) << url;
  }
  for (const char* url : {"https://128.0.0.1", "https://127.0.0.1.nip.io", "https://[::2]:9000",
                          "http://127.1", "http://127.0.0.256", "https://dynamodb.us-east-1.amazonaws.com",
                          "http://[::1", "http://0x7f.0.0.1"}) {
    EXPECT_FALSE(is_loopback_endpoint(url)) << url;
  }
}

TEST(ConfigFile, ParsesKeyValueLinesAndRejectsUnknownKeys) {
  auto v = parse_config_file(
      "# comment\nexport DYNAMODB_TABLE_NAME=\"prod-events\"\n\nOUTPUT_FORMAT = ndjson\n", "es.conf");
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->at("DYNAMODB_TABLE_NAME"), "prod-events");
  EXPECT_EQ(v->at("OUTPUT_FORMAT"), "ndjson");
  auto bad = parse_config_file("TABLE=events\n", "es.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("es.conf:1"), std::string::npos);
  auto no_eq = parse_config_file("\n\nnonsense\n", "es.conf");
  ASSERT_FALSE(no_eq.ok());
  EXPECT_NE(no_eq.error().to_string().find("es.conf:3"), std::string::npos);
}

}  // namespace
}  // namespace es
