#include <map>
#include <string>

#include <gtest/gtest.h>

#include "aws/endpoint.h"

namespace es::aws {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ParseEndpoint, HttpWithPort) {
  auto ep = parse_endpoint("http://127.0.0.1:4569", "AWS_ENDPOINT_URL");
  ASSERT_TRUE(ep.ok()) << ep.error().to_string();
  EXPECT_EQ(ep->scheme, "http");
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 4569);
  EXPECT_TRUE(ep->custom);
  EXPECT_EQ(ep->base_url(), "http://127.0.0.1:4569");
  EXPECT_EQ(ep->authority(), "127.0.0.1:4569");
}

TEST(ParseEndpoint, HttpsWithoutPortAndTrailingSlash) {
  auto ep = parse_endpoint("https://S3.Example.com/", "AWS_ENDPOINT_URL_S3");
  ASSERT_TRUE(ep.ok()) << ep.error().to_string();
  EXPECT_EQ(ep->scheme, "https");
  EXPECT_EQ(ep->host, "s3.example.com");
  EXPECT_EQ(ep->port, 0);
  EXPECT_EQ(ep->base_url(), "https://s3.example.com");
  EXPECT_EQ(ep->authority(), "s3.example.com");
}

TEST(ParseEndpoint, SchemeIsCaseInsensitiveAndWhitespaceTrimmed) {
  auto ep = parse_endpoint("  HTTP://localhost:8000\n", "AWS_ENDPOINT_URL");
  ASSERT_TRUE(ep.ok()) << ep.error().to_string();
  EXPECT_EQ(ep->scheme, "http");
  EXPECT_EQ(ep->host, "localhost");
  EXPECT_EQ(ep->port, 8000);
}

TEST(ParseEndpoint, DefaultPortIsLeftOutOfAuthority) {
  auto ep = parse_endpoint("https://host:443", "X");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, 443);
  EXPECT_EQ(ep->authority(), "host");
  EXPECT_EQ(ep->base_url(), "https://host");
  auto plain = parse_endpoint("http://host:80", "X");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->authority(), "host");
  auto other = parse_endpoint("http://host:443", "X");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->authority(), "host:443");
}

TEST(ParseEndpoint, Ipv6LiteralInBrackets) {
  auto ep = parse_endpoint("http://[::1]:4566", "AWS_ENDPOINT_URL");
  ASSERT_TRUE(ep.ok()) << ep.error().to_string();
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 4566);
  EXPECT_EQ(ep->authority(), "[::1]:4566");
  EXPECT_EQ(ep->base_url(), "http://[::1]:4566");

  auto no_port = parse_endpoint("https://[FD00:EC2::254]", "X");
  ASSERT_TRUE(no_port.ok()) << no_port.error().to_string();
  EXPECT_EQ(no_port->host, "fd00:ec2::254");
  EXPECT_EQ(no_port->base_url(), "https://[fd00:ec2::254]");
}

TEST(ParseEndpoint, ErrorNamesTheSettingAndValue) {
  auto ep = parse_endpoint("foo", "AWS_ENDPOINT_URL_S3");
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(ep.error().to_string(), "AWS_ENDPOINT_URL_S3: expected http(s)://host[:port], got 'foo'");
}

TEST(ParseEndpoint, RejectsBadInputs) {
  const char* bad[] = {
      "",
      "ftp://host",
      "http://",
      "http://:80",
      "http://host:",
      "http://host:0",
      "http://host:65536",
      "http://host:12ab",
      "http://host/path",
      "http://host?x=1",
      "http://host#frag",
      "http://::1:80",
      "http://[::1",
      "http://[::1]x",
      "http://[zz]:80",
      "http://ho st",
      "http://host//",
      "http://-host",
      "http://h\xc3\xa9st",
  };
  for (const char* url : bad) {
    auto ep = parse_endpoint(url, "AWS_ENDPOINT_URL");
    EXPECT_FALSE(ep.ok()) << "accepted '" << url << "'";
    if (!ep.ok()) {
      EXPECT_EQ(ep.error().resource, "AWS_ENDPOINT_URL") << url;
      EXPECT_NE(ep.error().message.find("expected http(s)://host[:port]"), std::string::npos) << url;
    }
  }
}

TEST(ParseEndpoint, ReasonIsGiven) {
  auto ep = parse_endpoint("http://host:99999", "AWS_ENDPOINT_URL_DYNAMODB");
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(
      ep.error().to_string(),
      "AWS_ENDPOINT_URL_DYNAMODB: expected http(s)://host[:port], got 'http://host:99999' (the port must be "
      "a number from 1 to 65535)");
}

TEST(ParseEndpoint, UserInfoIsRejectedWithoutEchoingIt) {
  auto ep = parse_endpoint("http://user:hunter2@host:9000", "AWS_ENDPOINT_URL");
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().to_string().find("hunter2"), std::string::npos) << ep.error().to_string();
}

TEST(ResolveRegion, Order) {
  EXPECT_EQ(resolve_region(env_of({})), "us-east-1");
  EXPECT_EQ(resolve_region(env_of({{"AWS_DEFAULT_REGION", "eu-west-1"}})), "eu-west-1");
  EXPECT_EQ(resolve_region(env_of({{"AWS_DEFAULT_REGION", "eu-west-1"}, {"AWS_REGION", "ap-south-1"}})),
            "ap-south-1");
  // Blank counts as unset.
  EXPECT_EQ(resolve_region(env_of({{"AWS_DEFAULT_REGION", "eu-west-1"}, {"AWS_REGION", " "}})), "eu-west-1");
}

TEST(ResolveEndpoint, AwsDefaults) {
  auto ddb = resolve_endpoint("dynamodb", env_of({}), "eu-central-1");
  ASSERT_TRUE(ddb.ok()) << ddb.error().to_string();
  EXPECT_EQ(ddb->base_url(), "https://dynamodb.eu-central-1.amazonaws.com");
  EXPECT_FALSE(ddb->custom);
  EXPECT_EQ(ddb->port, 0);

  auto s3 = resolve_endpoint("s3", env_of({}), "us-east-1");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->host, "s3.us-east-1.amazonaws.com");

  auto cw = resolve_endpoint("monitoring", env_of({}), "us-west-2");
  ASSERT_TRUE(cw.ok());
  EXPECT_EQ(cw->host, "monitoring.us-west-2.amazonaws.com");
}

TEST(ResolveEndpoint, ChinaRegionsUseTheirOwnSuffix) {
  auto s3 = resolve_endpoint("s3", env_of({}), "cn-north-1");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->base_url(), "https://s3.cn-north-1.amazonaws.com.cn");
  auto ddb = resolve_endpoint("dynamodb", env_of({}), "cn-northwest-1");
  ASSERT_TRUE(ddb.ok());
  EXPECT_EQ(ddb->host, "dynamodb.cn-northwest-1.amazonaws.com.cn");
}

TEST(ResolveEndpoint, ServiceSpecificWinsOverGlobal) {
  const auto env = env_of({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1111"},
                           {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4569"},
                           {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:4567/"}});
  auto s3 = resolve_endpoint("s3", env, "us-east-1");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->base_url(), "http://127.0.0.1:4569");
  EXPECT_TRUE(s3->custom);
  auto ddb = resolve_endpoint("dynamodb", env, "us-east-1");
  ASSERT_TRUE(ddb.ok());
  EXPECT_EQ(ddb->base_url(), "http://localhost:4567");
  auto sts = resolve_endpoint("sts", env, "us-east-1");
  ASSERT_TRUE(sts.ok());
  EXPECT_EQ(sts->base_url(), "http://127.0.0.1:1111");
  EXPECT_TRUE(sts->custom);
}

TEST(ResolveEndpoint, MonitoringUsesCloudWatchSuffix) {
  const auto env = env_of({{"AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:4566"},
                           {"AWS_ENDPOINT_URL_MONITORING", "http://127.0.0.1:9"}});
  auto cw = resolve_endpoint("monitoring", env, "us-east-1");
  ASSERT_TRUE(cw.ok());
  EXPECT_EQ(cw->base_url(), "http://127.0.0.1:4566");
}

TEST(ResolveEndpoint, DashesBecomeUnderscores) {
  auto ep = resolve_endpoint("resource-groups", env_of({{"AWS_ENDPOINT_URL_RESOURCE_GROUPS", "http://h:1"}}),
                             "us-east-1");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->base_url(), "http://h:1");
}

TEST(ResolveEndpoint, BlankSettingIsIgnored) {
  auto ep =
      resolve_endpoint("s3", env_of({{"AWS_ENDPOINT_URL_S3", ""}, {"AWS_ENDPOINT_URL", "  "}}), "us-east-1");
  ASSERT_TRUE(ep.ok());
  EXPECT_FALSE(ep->custom);
}

TEST(ResolveEndpoint, BadSettingNamesTheVariable) {
  auto ep = resolve_endpoint("s3", env_of({{"AWS_ENDPOINT_URL_S3", "foo"}}), "us-east-1");
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().to_string(), "AWS_ENDPOINT_URL_S3: expected http(s)://host[:port], got 'foo'");
  auto global = resolve_endpoint("dynamodb", env_of({{"AWS_ENDPOINT_URL", "localhost:8000"}}), "us-east-1");
  ASSERT_FALSE(global.ok());
  EXPECT_EQ(global.error().resource, "AWS_ENDPOINT_URL");
}

TEST(ResolveEndpoint, IgnoreConfiguredEndpointUrls) {
  auto ep = resolve_endpoint("s3",
                             env_of({{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4569"},
                                     {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}}),
                             "eu-west-1");
  ASSERT_TRUE(ep.ok());
  EXPECT_FALSE(ep->custom);
  EXPECT_EQ(ep->host, "s3.eu-west-1.amazonaws.com");
}

TEST(ResolveEndpoint, InvalidRegionIsRejected) {
  for (const char* region : {"", "US-EAST-1", "us-east-1.evil.com", "us east", "-us"}) {
    auto ep = resolve_endpoint("s3", env_of({}), region);
    ASSERT_FALSE(ep.ok()) << region;
    EXPECT_EQ(ep.error().resource, "region");
  }
  // A custom endpoint does not need a valid AWS region name (local servers accept anything).
  auto local = resolve_endpoint("s3", env_of({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}}), "local");
  EXPECT_TRUE(local.ok());
}

TEST(ResolveEndpoint, InvalidServiceIsRejected) {
  EXPECT_FALSE(resolve_endpoint("", env_of({}), "us-east-1").ok());
  EXPECT_FALSE(resolve_endpoint("s3.evil", env_of({}), "us-east-1").ok());
}

}  // namespace
}  // namespace es::aws
