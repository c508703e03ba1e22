// The container source (ECS task role, EKS Pod Identity): URIs, authorization token, host rules.

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "aws/credentials.h"
#include "aws/credentials/source.h"
#include "support/aws_credentials_fixture.h"

namespace es::aws {
namespace {

using namespace credentials_test;  // tests/support/aws_credentials_fixture.h

TEST(ContainerHost, AllowedPlainHttpAddresses) {
  for (const char* ok : {"127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "169.254.170.2",
                         "169.254.170.23", "fd00:ec2::23", "FD00:EC2:0::23"}) {
    EXPECT_TRUE(internal::is_allowed_container_address(ok)) << ok;
  }
  for (const char* bad : {"128.0.0.1", "169.254.169.254", "example.com", "127.0.0.1.evil.com", "::2",
                          "10.0.0.1", "localhost"}) {
    EXPECT_FALSE(internal::is_allowed_container_address(bad)) << bad;
  }
}

// A name is resolved and every address it resolves to must be allowed, as the AWS SDKs do.
TEST(ContainerHost, ANameIsAllowedOnlyWhenEveryAddressItResolvesToIs) {
  std::map<std::string, std::vector<std::string>> hosts = {
      {"localhost", {"127.0.0.1", "::1"}},
      {"pod-identity.internal", {"169.254.170.23", "fd00:ec2::23"}},
      {"localhost-mixed", {"127.0.0.1", "10.0.0.5"}},
      {"nowhere", {}},
  };
  std::vector<std::string> asked;
  const HostResolver resolve = [&](const std::string& host) -> Result<std::vector<std::string>> {
    asked.push_back(host);
    const auto it = hosts.find(host);
    if (it == hosts.end()) return Error::invalid_argument(host, "Name or service not known");
    return it->second;
  };
  EXPECT_TRUE(internal::check_container_host("localhost", resolve).ok());
  EXPECT_TRUE(internal::check_container_host("pod-identity.internal", resolve).ok());
  EXPECT_TRUE(internal::check_container_host("127.0.0.1", resolve).ok());
  EXPECT_EQ(asked, (std::vector<std::string>{"localhost", "pod-identity.internal"}));  // not an address
  hosts["localhost"] = {"192.168.1.10"};  // /etc/hosts may say anything
  for (const char* bad : {"localhost", "localhost-mixed", "nowhere", "unknown.example", "10.0.0.1"}) {
    const Status s = internal::check_container_host(bad, resolve);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_NE(s.error().to_string().find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos);
    EXPECT_NE(s.error().to_string().find(bad), std::string::npos) << s.error().to_string();
  }
  EXPECT_NE(internal::check_container_host("localhost-mixed", resolve).error().message.find("10.0.0.5"),
            std::string::npos);
}

TEST(ContainerHost, TheDefaultResolverAsksGetaddrinfo) {
  auto numeric = internal::resolve_host("127.0.0.1");
  ASSERT_TRUE(numeric.ok()) << numeric.error().to_string();
  ASSERT_FALSE(numeric->empty());
  EXPECT_EQ(numeric->front(), "127.0.0.1");
}

TEST_F(CredentialsChainTest, ContainerRelativeUri) {
  set_container_relative();
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kContainerId);
  EXPECT_EQ(c->secret_access_key, kContainerSecret);
  EXPECT_EQ(c->session_token, kContainerToken);
  EXPECT_EQ(c->expiration_us, at("2026-11-29T12:00:00Z"));
  EXPECT_EQ(c->source, "container");
  const auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url, "http://169.254.170.2/v2/credentials/0f5a");
  EXPECT_FALSE(requests[0].header("Authorization"));
}

TEST_F(CredentialsChainTest, RelativeUriWinsOverFullUri) {
  set_container_relative();
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9911/creds";
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(http_.requests().at(0).url, "http://169.254.170.2/v2/credentials/0f5a");
}

TEST_F(CredentialsChainTest, ContainerFullUriWithTokenVariable) {
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9911/creds?x=1";
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = std::string(kAuthToken);
  http_.reply("GET", "http://127.0.0.1:9911/creds?x=1", 200,
              credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T12:00:00Z"));
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kContainerId);
  const auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Authorization"), std::string(kAuthToken));
}

TEST_F(CredentialsChainTest, ContainerTokenFileWinsAndIsReadOnEveryFetch) {
  const fs::path token_file = dir_.path() / "eks" / "token";
  write_file(token_file, std::string(kAuthFileToken) + "\n");
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://169.254.170.23/v1/credentials";
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = std::string(kAuthToken);
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = token_file.string();
  http_.reply("GET", "http://169.254.170.23/v1/credentials", 200,
              credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T11:00:00Z"));
  http_.reply("GET", "http://169.254.170.23/v1/credentials", 200,
              credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T12:00:00Z"));
  auto provider = chain();
  auto c = provider->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(http_.requests().at(0).header("Authorization"), std::string(kAuthFileToken));

  write_file(token_file, "rotated-token");
  auto refreshed = provider->get(at("2026-11-29T10:58:00Z"));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().to_string();
  EXPECT_EQ(refreshed->expiration_us, at("2026-11-29T12:00:00Z"));
  ASSERT_EQ(http_.count(), 2u);
  EXPECT_EQ(http_.requests().at(1).header("Authorization"), "rotated-token");
}

TEST_F(CredentialsChainTest, ContainerMissingTokenFileIsAnError) {
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://169.254.170.23/v1/credentials";
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (dir_.path() / "nope").string();
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find((dir_.path() / "nope").string()), std::string::npos)
      << c.error().to_string();
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(CredentialsChainTest, ContainerFullUriHostRules) {
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://creds.example.com/get";
  auto plain = chain()->get(now_);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(
      plain.error().to_string().find("AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed only to"),
      std::string::npos)
      << plain.error().to_string();
  EXPECT_EQ(http_.count(), 0u);

  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "https://creds.example.com/get";
  http_.reply("GET", "https://creds.example.com/get", 200,
              credentials_json(kContainerId, kContainerSecret, "", "2026-11-29T12:00:00Z"));
  auto tls = chain()->get(now_);
  ASSERT_TRUE(tls.ok()) << tls.error().to_string();

  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://[::1]:8080/creds";
  http_.reply("GET", "http://[::1]:8080/creds", 200,
              credentials_json(kContainerId, kContainerSecret, "", "2026-11-29T12:00:00Z"));
  auto v6 = chain()->get(now_);
  ASSERT_TRUE(v6.ok()) << v6.error().to_string();

  // A name: allowed when it resolves to allowed addresses only.
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://localhost:8080/creds";
  http_.reply("GET", "http://localhost:8080/creds", 200,
              credentials_json(kContainerId, kContainerSecret, "", "2026-11-29T12:00:00Z"));
  auto named = chain()->get(now_);
  ASSERT_TRUE(named.ok()) << named.error().to_string();
  hosts_["localhost"] = {"127.0.0.1", "203.0.113.7"};
  const std::size_t sent = http_.count();
  auto elsewhere = chain()->get(now_);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_NE(elsewhere.error().to_string().find("203.0.113.7"), std::string::npos)
      << elsewhere.error().to_string();
  EXPECT_EQ(http_.count(), sent);

  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "creds.example.com";
  auto garbage = chain()->get(now_);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().to_string().find("AWS_CONTAINER_CREDENTIALS_FULL_URI: expected http(s)://"),
            std::string::npos);
}

TEST_F(CredentialsChainTest, ContainerFailureStopsTheChainAndIsRetryable) {
  set_container_relative();
  http_.clear_routes();
  http_.reply("GET", "http://169.254.170.2/v2/credentials/0f5a", 500, R"({"code":"InternalError"})");
  script_imds("2026-11-29T12:00:00Z");
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().retryable);
  EXPECT_NE(c.error().to_string().find("container credentials endpoint answered HTTP 500"), std::string::npos)
      << c.error().to_string();
  EXPECT_EQ(http_.count(), 1u);  // IMDS was not asked
}

TEST_F(CredentialsChainTest, ContainerUnreachable) {
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/0f5a";  // no route: refused
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kTransport);
  EXPECT_TRUE(c.error().retryable);
  EXPECT_NE(c.error().to_string().find("Couldn't connect"), std::string::npos) << c.error().to_string();
}

}  // namespace
}  // namespace es::aws
