// The EC2 instance metadata source (IMDSv2).

#include <string>

#include <gtest/gtest.h>

#include "aws/credentials.h"
#include "support/aws_credentials_fixture.h"

namespace es::aws {
namespace {

using namespace credentials_test;  // tests/support/aws_credentials_fixture.h

TEST_F(CredentialsChainTest, ImdsV2TokenFlow) {
  script_imds("2026-11-29T12:00:00Z");
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kImdsId);
  EXPECT_EQ(c->secret_access_key, kImdsSecret);
  EXPECT_EQ(c->session_token, kImdsToken);
  EXPECT_EQ(c->expiration_us, at("2026-11-29T12:00:00Z"));
  EXPECT_EQ(c->source, "imds");

  const auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].url, "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_FALSE(requests[0].header("X-aws-ec2-metadata-token"));
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].url, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[1].header("X-aws-ec2-metadata-token"), std::string(kImdsApiToken));
  EXPECT_EQ(requests[2].method, "GET");
  EXPECT_EQ(requests[2].url,
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/eaglesense-role");
  EXPECT_EQ(requests[2].header("X-aws-ec2-metadata-token"), std::string(kImdsApiToken));
}

TEST_F(CredentialsChainTest, ImdsCustomEndpoint) {
  vars_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:1338/";
  http_.reply("PUT", "http://127.0.0.1:1338/latest/api/token", 200, "tok");
  http_.reply("GET", "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/", 200, "r");
  http_.reply("GET", "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/r", 200,
              credentials_json(kImdsId, kImdsSecret, kImdsToken, "2026-11-29T12:00:00Z"));
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->source, "imds");
}

TEST_F(CredentialsChainTest, ImdsDisabled) {
  vars_["AWS_EC2_METADATA_DISABLED"] = "True";
  script_imds("2026-11-29T12:00:00Z");
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find("disabled by AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(CredentialsChainTest, ImdsWithoutRole) {
  http_.reply("PUT", "http://169.254.169.254/latest/api/token", 200, std::string(kImdsApiToken));
  http_.reply("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 404, "");
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find("no IAM role"), std::string::npos) << c.error().to_string();
}

TEST_F(CredentialsChainTest, ImdsTokenRefused) {
  http_.reply("PUT", "http://169.254.169.254/latest/api/token", 403, "");
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kAccessDenied);
  EXPECT_NE(c.error().to_string().find("PUT /latest/api/token) answered HTTP 403"), std::string::npos)
      << c.error().to_string();
}

}  // namespace
}  // namespace es::aws
