// The environment source: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, and the
// process environment that the chain reads when given none.

#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <stdlib.h>  // setenv

#include "aws/credentials.h"
#include "core/env.h"
#include "support/aws_credentials_fixture.h"

namespace es::aws {
namespace {

using namespace credentials_test;  // tests/support/aws_credentials_fixture.h

TEST(ProcessEnv, ReadsTheProcessEnvironment) {
  ::setenv("EAGLESENSE_CREDENTIALS_TEST_VAR", "value", 1);
  const auto env = process_environment();
  EXPECT_EQ(env("EAGLESENSE_CREDENTIALS_TEST_VAR"), "value");
  EXPECT_EQ(env("EAGLESENSE_CREDENTIALS_TEST_UNSET_VAR"), std::nullopt);
  ::unsetenv("EAGLESENSE_CREDENTIALS_TEST_VAR");
}

TEST_F(CredentialsChainTest, EnvironmentCredentials) {
  set_env_credentials();
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kEnvId);
  EXPECT_EQ(c->secret_access_key, kEnvSecret);
  EXPECT_EQ(c->session_token, kEnvToken);
  EXPECT_FALSE(c->expiration_us);
  EXPECT_EQ(c->source, "environment");
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(CredentialsChainTest, EnvironmentWinsOverEverythingElse) {
  set_env_credentials();
  write_default_profile();
  set_container_relative();
  script_imds("2026-11-29T12:00:00Z");
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, "environment");
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(CredentialsChainTest, EnvironmentWithoutSessionToken) {
  vars_["AWS_ACCESS_KEY_ID"] = std::string(kEnvId);
  vars_["AWS_SECRET_ACCESS_KEY"] = std::string(kEnvSecret);
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->session_token.empty());
}

TEST_F(CredentialsChainTest, PartialEnvironmentIsAnErrorNamingTheMissingVariable) {
  write_default_profile();
  set_container_relative();
  vars_["AWS_ACCESS_KEY_ID"] = std::string(kEnvId);
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(c.error().to_string().find("AWS_SECRET_ACCESS_KEY: not set while AWS_ACCESS_KEY_ID is"),
            std::string::npos)
      << c.error().to_string();
  EXPECT_EQ(http_.count(), 0u);  // the chain stopped: no silent fallback to another identity

  vars_.erase("AWS_ACCESS_KEY_ID");
  vars_["AWS_SECRET_ACCESS_KEY"] = std::string(kEnvSecret);
  auto other = chain()->get(now_);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().to_string().find("AWS_ACCESS_KEY_ID: not set while AWS_SECRET_ACCESS_KEY is"),
            std::string::npos)
      << other.error().to_string();
}

}  // namespace
}  // namespace es::aws
