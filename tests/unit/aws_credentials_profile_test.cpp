// The shared files source: the INI reader, and profiles of the shared credentials and config files.

#include <string>

#include <gtest/gtest.h>

#include "aws/credentials.h"
#include "aws/ini.h"
#include "support/aws_credentials_fixture.h"

namespace es::aws {
namespace {

using namespace credentials_test;  // tests/support/aws_credentials_fixture.h

TEST(IniParser, SectionsKeysCommentsAndNesting) {
  auto ini = parse_ini(
      "\xEF\xBB\xBF# comment\n"
      "; another\n"
      "[default]\r\n"
      "Region = eu-west-1\n"
      "s3 =\n"
      "    max_concurrent_requests = 20\n"
      "\n"
      "[ profile dev ]  # trailing comment\n"
      "aws_access_key_id=AKIA\n"
      "endpoint_url = http://localhost:4566 # kept verbatim\n"
      "[default]\n"
      "output: json\n",
      "config");
  ASSERT_TRUE(ini.ok()) << ini.error().to_string();
  const auto* def = ini->find("default");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->at("region"), "eu-west-1");
  EXPECT_EQ(def->at("s3"), "");
  EXPECT_EQ(def->count("max_concurrent_requests"), 0u);
  EXPECT_EQ(def->at("output"), "json");
  const auto* dev = ini->find("profile dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->at("aws_access_key_id"), "AKIA");
  EXPECT_EQ(dev->at("endpoint_url"), "http://localhost:4566 # kept verbatim");
  EXPECT_EQ(ini->find("missing"), nullptr);
}

TEST(IniParser, ErrorsGiveLineButNotContent) {
  auto no_section = parse_ini("aws_secret_access_key = hunter2\n", "/x/credentials");
  ASSERT_FALSE(no_section.ok());
  EXPECT_EQ(no_section.error().to_string(),
            "/x/credentials: invalid data: line 1: property before the first [section]");
  auto no_equals = parse_ini("[default]\n\naws_secret_access_key hunter2\n", "/x/credentials");
  ASSERT_FALSE(no_equals.ok());
  EXPECT_NE(no_equals.error().message.find("line 3"), std::string::npos);
  EXPECT_EQ(no_equals.error().to_string().find("hunter2"), std::string::npos);
  EXPECT_FALSE(parse_ini("[default\n", "f").ok());
  EXPECT_FALSE(parse_ini("[]\n", "f").ok());
  EXPECT_FALSE(parse_ini("[a] b\n", "f").ok());
  EXPECT_FALSE(parse_ini("  indented = first\n", "f").ok());
}

TEST_F(CredentialsChainTest, DefaultProfileFromCredentialsFileInHome) {
  write_default_profile();
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kProfileId);
  EXPECT_EQ(c->secret_access_key, kProfileSecret);
  EXPECT_EQ(c->session_token, kProfileToken);
  EXPECT_EQ(c->source, "profile default");
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(CredentialsChainTest, NamedProfileFromConfigFile) {
  const fs::path config = dir_.path() / "elsewhere" / "config";
  write_file(config, "[default]\nregion = us-east-1\n[profile dev]\naws_access_key_id = " +
                         std::string(kDevId) + "\naws_secret_access_key = " + std::string(kDevSecret) + "\n");
  vars_["AWS_CONFIG_FILE"] = config.string();
  vars_["AWS_PROFILE"] = "dev";
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kDevId);
  EXPECT_EQ(c->secret_access_key, kDevSecret);
  EXPECT_TRUE(c->session_token.empty());
  EXPECT_EQ(c->source, "profile dev");
}

TEST_F(CredentialsChainTest, DefaultProfileFromConfigFileDefaultSection) {
  write_file(home_ / ".aws" / "config", "[default]\naws_access_key_id = " + std::string(kDevId) +
                                            "\naws_secret_access_key = " + std::string(kDevSecret) + "\n");
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kDevId);
}

TEST_F(CredentialsChainTest, CredentialsFileWinsOverConfigFile) {
  write_default_profile();
  write_file(home_ / ".aws" / "config", "[default]\naws_access_key_id = " + std::string(kDevId) +
                                            "\naws_secret_access_key = " + std::string(kDevSecret) + "\n");
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, kProfileId);
}

TEST_F(CredentialsChainTest, SharedCredentialsFileOverrideWithTilde) {
  write_file(home_ / "keys" / "creds", "[ci]\naws_access_key_id = " + std::string(kDevId) +
                                           "\naws_secret_access_key = " + std::string(kDevSecret) + "\n");
  write_default_profile();  // in ~/.aws/credentials: ignored once the override is set
  vars_["AWS_SHARED_CREDENTIALS_FILE"] = "~/keys/creds";
  vars_["AWS_PROFILE"] = "ci";
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, kDevId);
  EXPECT_EQ(c->source, "profile ci");
}

TEST_F(CredentialsChainTest, ChosenProfileMissingIsAnError) {
  write_default_profile();
  set_container_relative();
  vars_["AWS_PROFILE"] = "prod";
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  const std::string text = c.error().to_string();
  EXPECT_NE(
      text.find("AWS_PROFILE: profile 'prod' not found in " + (home_ / ".aws" / "credentials").string()),
      std::string::npos)
      << text;
  EXPECT_NE(text.find((home_ / ".aws" / "config").string() + " (not found)"), std::string::npos) << text;
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(CredentialsChainTest, MissingDefaultProfileFallsThrough) {
  write_file(home_ / ".aws" / "config", "[default]\nregion = eu-west-1\n");  // no keys: not a source
  set_container_relative();
  auto c = chain()->get(now_);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->source, "container");
}

TEST_F(CredentialsChainTest, RoleArnProfileIsReportedAsUnsupported) {
  write_file(home_ / ".aws" / "config",
             "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = default\n");
  write_default_profile();
  vars_["AWS_PROFILE"] = "ops";
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find(
                "profile 'ops' uses role_arn (assume role), which EagleSense does not support"),
            std::string::npos)
      << c.error().to_string();
}

TEST_F(CredentialsChainTest, CredentialProcessProfileIsReportedAsUnsupported) {
  write_file(home_ / ".aws" / "credentials", "[default]\ncredential_process = /usr/bin/get-creds --json\n");
  set_container_relative();
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find("credential_process"), std::string::npos) << c.error().to_string();
  EXPECT_NE(c.error().to_string().find("not support"), std::string::npos);
  EXPECT_EQ(http_.count(), 0u);
}

TEST_F(CredentialsChainTest, ProfileWithHalfTheKeysIsAnError) {
  write_file(home_ / ".aws" / "credentials",
             "[default]\naws_secret_access_key = " + std::string(kProfileSecret) + "\n");
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(
      c.error().to_string().find("profile 'default' has aws_secret_access_key but no aws_access_key_id"),
      std::string::npos)
      << c.error().to_string();
}

TEST_F(CredentialsChainTest, MalformedSharedFileIsAnError) {
  write_file(home_ / ".aws" / "credentials", "[default]\naws_access_key_id\n");
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find((home_ / ".aws" / "credentials").string() + ": invalid data: line 2"),
            std::string::npos)
      << c.error().to_string();
}

}  // namespace
}  // namespace es::aws
