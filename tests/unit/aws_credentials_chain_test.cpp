// The chain and what the sources share: the endpoints' JSON document and its Expiration, fixed
// credentials, caching and refresh, the error when no source works, and no secret in any log line
// or error of any source.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "aws/credentials.h"
#include "aws/credentials/source.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/time.h"
#include "support/aws_credentials_fixture.h"

namespace es::aws {
namespace {

using namespace credentials_test;  // tests/support/aws_credentials_fixture.h
using namespace std::chrono_literals;

// ---- helpers ------------------------------------------------------------------------------------

TEST(Iso8601, ParsesUtcForms) {
  // Expiration is read by core's parser (core/time.h), the program's one ISO-8601 parser.
  const auto base = parse_iso8601_us("2026-11-29T10:15:42Z");
  ASSERT_TRUE(base);
  EXPECT_EQ(*base / kMicrosPerSecond, 1795947342);
  EXPECT_EQ(at("2026-11-29T11:15:42+01:00"), *base);
  EXPECT_EQ(at("2026-11-29T09:45:42-00:30"), *base);
  const auto frac = parse_iso8601_us("2026-11-29T10:15:42.250Z");
  ASSERT_TRUE(frac);
  EXPECT_EQ(std::chrono::microseconds(*frac - *base), 250ms);
  EXPECT_TRUE(parse_iso8601_us("2024-02-29T00:00:00Z"));
}

TEST(Iso8601, RejectsMalformed) {
  // "2026-11-29T10:15:42+0100" was rejected by the credentials module's own parser; core's parser,
  // now the only one, accepts the +HHMM offset (core_time_test ParseIso.BasicForms pins "+0000").
  for (const char* bad : {"", "2026-11-29", "2026-11-29T10:15:42", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T10:60:00Z",
                          "2026-11-29T10:15:42.Z", "2026-11-29T10:15:42Zjunk", "x026-11-29T10:15:42Z"}) {
    EXPECT_FALSE(parse_iso8601_us(bad)) << bad;
  }
}

TEST(MaskAccessKeyId, KeepsOnlyTheEnds) {
  EXPECT_EQ(mask_access_key_id("AKIAIOSFODNN7EXAMPLE"), "AKIA****MPLE");
  EXPECT_EQ(mask_access_key_id("AKIA1234WXYZ"), "AKIA****WXYZ");
  EXPECT_EQ(mask_access_key_id("short"), "****");
  EXPECT_EQ(mask_access_key_id(""), "****");
}

TEST(ParseCredentialsJson, ReadsAllFields) {
  auto c = internal::parse_credentials_json(credentials_json("ASIA1", "s", "t", "2026-11-29T12:00:00Z"), "x");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->access_key_id, "ASIA1");
  EXPECT_EQ(c->secret_access_key, "s");
  EXPECT_EQ(c->session_token, "t");
  EXPECT_EQ(c->expiration_us, at("2026-11-29T12:00:00Z"));
  auto no_expiry = internal::parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"S"})", "x");
  ASSERT_TRUE(no_expiry.ok());
  EXPECT_FALSE(no_expiry->expiration_us);
  EXPECT_TRUE(no_expiry->session_token.empty());
}

TEST(ParseCredentialsJson, ErrorsNameTheFieldNotTheValue) {
  auto missing = internal::parse_credentials_json(R"({"AccessKeyId":"A","Token":"tok-secret"})", "endpoint");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kInvalidData);
  EXPECT_NE(missing.error().message.find("SecretAccessKey"), std::string::npos);
  EXPECT_EQ(missing.error().to_string().find("tok-secret"), std::string::npos);

  auto not_json = internal::parse_credentials_json("SecretAccessKey=hunter2", "endpoint");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().to_string().find("hunter2"), std::string::npos);

  auto array = internal::parse_credentials_json("[1]", "endpoint");
  EXPECT_FALSE(array.ok());

  auto failed =
      internal::parse_credentials_json(R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"no"})", "e");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, "AssumeRoleUnauthorizedAccess");

  auto bad_time = internal::parse_credentials_json(
      R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"tomorrow"})", "e");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.error().message.find("Expiration"), std::string::npos);
}

TEST(StaticCredentials, ReturnsThemAsGiven) {
  Credentials c;
  c.access_key_id = "AKIDSTATIC";
  c.secret_access_key = "secret";
  auto provider = make_static_credentials(c);
  auto got = provider->get(system_now_us());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->access_key_id, "AKIDSTATIC");
  EXPECT_EQ(got->secret_access_key, "secret");
  EXPECT_EQ(got->source, "static");
}

// ---- caching and refresh ------------------------------------------------------------------------

TEST_F(CredentialsChainTest, RefreshesFiveMinutesBeforeExpiry) {
  script_imds("2026-11-29T12:00:00Z", "ASIAFIRSTCREDENTIAL1");
  auto provider = chain();
  auto first = provider->get(now_);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->access_key_id, "ASIAFIRSTCREDENTIAL1");
  EXPECT_EQ(http_.count(), 3u);

  auto cached = provider->get(at("2026-11-29T11:54:59Z"));
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->access_key_id, "ASIAFIRSTCREDENTIAL1");
  EXPECT_EQ(http_.count(), 3u);

  http_.clear_routes();
  script_imds("2026-11-29T18:00:00Z", "ASIASECONDCREDENTIA2");
  auto refreshed = provider->get(at("2026-11-29T11:55:00Z"));
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().to_string();
  EXPECT_EQ(refreshed->access_key_id, "ASIASECONDCREDENTIA2");
  EXPECT_EQ(refreshed->expiration_us, at("2026-11-29T18:00:00Z"));
  EXPECT_EQ(http_.count(), 6u);
  EXPECT_EQ(http_.requests().at(3).method, "PUT");

  auto again = provider->get(at("2026-11-29T12:30:00Z"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->access_key_id, "ASIASECONDCREDENTIA2");
  EXPECT_EQ(http_.count(), 6u);
}

TEST_F(CredentialsChainTest, RefreshUsesTheRememberedSourceOnly) {
  set_container_relative();
  auto provider = chain();
  ASSERT_TRUE(provider->get(now_).ok());
  // Environment credentials appear later: the chain keeps the container it found first.
  set_env_credentials();
  auto refreshed = provider->get(at("2026-11-29T11:58:00Z"));
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ(refreshed->source, "container");
  EXPECT_EQ(http_.count(), 2u);
}

TEST_F(CredentialsChainTest, EnvironmentCredentialsAreNeverRefetched) {
  set_env_credentials();
  auto provider = chain();
  ASSERT_TRUE(provider->get(now_).ok());
  vars_["AWS_ACCESS_KEY_ID"] = "AKIACHANGEDLATER0000";
  auto later = provider->get(now_ + 24 * 365 * kMicrosPerHour);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->access_key_id, kEnvId);
}

TEST_F(CredentialsChainTest, FailedRefreshKeepsUnexpiredCredentialsThenFails) {
  set_container_relative();
  auto provider = chain();
  ASSERT_TRUE(provider->get(now_).ok());
  http_.clear_routes();
  http_.reply("GET", "http://169.254.170.2/v2/credentials/0f5a", 503, "");

  auto still = provider->get(at("2026-11-29T11:57:00Z"));
  ASSERT_TRUE(still.ok()) << still.error().to_string();
  EXPECT_EQ(still->access_key_id, kContainerId);
  EXPECT_EQ(http_.count(), 2u);

  auto expired = provider->get(at("2026-11-29T12:00:00Z"));
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().http_status, 503);
  EXPECT_TRUE(expired.error().retryable);
  EXPECT_EQ(expired.error().operation, "credentials");

  // The endpoint recovers: the next call gets new credentials from it.
  http_.clear_routes();
  http_.reply(
      "GET", "http://169.254.170.2/v2/credentials/0f5a", 200,
      credentials_json("ASIARECOVERED0000001", kContainerSecret, kContainerToken, "2026-11-29T18:00:00Z"));
  auto recovered = provider->get(at("2026-11-29T12:01:00Z"));
  ASSERT_TRUE(recovered.ok()) << recovered.error().to_string();
  EXPECT_EQ(recovered->access_key_id, "ASIARECOVERED0000001");
}

TEST_F(CredentialsChainTest, AlreadyExpiredCredentialsAreRejected) {
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/c";
  http_.reply("GET", "http://169.254.170.2/c", 200,
              credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T09:00:00Z"));
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find("expired at 2026-11-29T09:00:00Z"), std::string::npos)
      << c.error().to_string();
}

TEST_F(CredentialsChainTest, ShortLivedCredentialsAreNotRefetchedOnEveryCall) {
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/c";
  http_.reply("GET", "http://169.254.170.2/c", 200,
              credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T10:02:00Z"));
  auto provider = chain();
  ASSERT_TRUE(provider->get(now_).ok());
  ASSERT_TRUE(provider->get(now_ + 10 * kMicrosPerSecond).ok());
  EXPECT_EQ(http_.count(), 1u);
  ASSERT_TRUE(provider->get(now_ + 31 * kMicrosPerSecond).ok());
  EXPECT_EQ(http_.count(), 2u);
}

TEST_F(CredentialsChainTest, ConcurrentCallersShareOneFetch) {
  vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/c";
  std::atomic<int> fetches{0};
  std::atomic<int> expiry_hour{12};
  http_.route("GET", "http://169.254.170.2/c", [&]() -> Result<HttpResponse> {
    ++fetches;
    std::this_thread::sleep_for(50ms);
    HttpResponse r;
    r.status = 200;
    r.body = credentials_json(kContainerId, kContainerSecret, kContainerToken,
                              "2026-11-29T" + std::to_string(expiry_hour.load()) + ":00:00Z");
    return r;
  });
  auto provider = chain();

  const auto run = [&](std::int64_t when) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&] {
        if (provider->get(when).ok()) ++ok;
      });
    }
    for (auto& t : threads) t.join();
    return ok.load();
  };
  EXPECT_EQ(run(now_), 8);
  EXPECT_EQ(fetches.load(), 1);

  expiry_hour = 18;
  EXPECT_EQ(run(at("2026-11-29T11:57:00Z")), 8);
  EXPECT_EQ(fetches.load(), 2);
  auto c = provider->get(at("2026-11-29T11:58:00Z"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->expiration_us, at("2026-11-29T18:00:00Z"));
  EXPECT_EQ(fetches.load(), 2);
}

// ---- nothing works ------------------------------------------------------------------------------

TEST_F(CredentialsChainTest, NothingWorksListsEverySource) {
  auto c = chain()->get(now_);  // HOME without .aws, no container variables, IMDS unreachable
  ASSERT_FALSE(c.ok());
  const std::string text = c.error().to_string();
  EXPECT_EQ(c.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(c.error().operation, "credentials");
  EXPECT_NE(text.find("no AWS credentials found"), std::string::npos) << text;
  EXPECT_NE(text.find("1) environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2) shared files: no profile 'default' in " +
                      (home_ / ".aws" / "credentials").string() + " (not found)"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("3) container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI "
                "are not set"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("4) EC2 instance metadata: no instance metadata service at http://169.254.169.254"),
            std::string::npos)
      << text;
  ASSERT_EQ(http_.count(), 1u);  // just the token PUT

  // A later call tries the chain again (e.g. the instance role was attached meanwhile).
  script_imds("2026-11-29T12:00:00Z");
  auto later = chain()->get(now_);
  EXPECT_TRUE(later.ok());
}

TEST_F(CredentialsChainTest, NoHomeDirectory) {
  vars_.erase("HOME");
  vars_["AWS_EC2_METADATA_DISABLED"] = "true";
  auto c = chain()->get(now_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().to_string().find("HOME is not set"), std::string::npos) << c.error().to_string();
}

// ---- secrets never reach a log line or an error -------------------------------------------------

class LogCapture {
 public:
  LogCapture() {
    previous_ = log::level();
    log::set_level(log::Level::kDebug);
    log::set_sink([this](std::string_view line) { lines_.emplace_back(line); });  // called under log's lock
  }
  ~LogCapture() {
    log::set_sink({});
    log::set_level(previous_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  [[nodiscard]] const std::vector<std::string>& lines() const { return lines_; }

 private:
  log::Level previous_;
  std::vector<std::string> lines_;
};

TEST_F(CredentialsChainTest, NoSecretInAnyLogLineOrError) {
  LogCapture capture;
  std::vector<std::string> errors;
  std::vector<std::string> sources_used;
  const auto attempt = [&](std::int64_t when = 0) {
    auto c = chain()->get(when == 0 ? now_ : when);
    if (c.ok()) {
      sources_used.push_back(c->source);
    } else {
      errors.push_back(c.error().to_string());
      errors.push_back(c.error().message);
    }
  };
  const auto reset = [&] {
    vars_.clear();
    vars_["HOME"] = home_.string();
    fs::remove_all(home_ / ".aws");
    http_.clear_routes();
  };

  // Environment: complete, and each half alone.
  set_env_credentials();
  attempt();
  vars_.erase("AWS_ACCESS_KEY_ID");
  attempt();
  vars_["AWS_ACCESS_KEY_ID"] = std::string(kEnvId);
  vars_.erase("AWS_SECRET_ACCESS_KEY");
  attempt();

  // Shared files: good, half a key pair, a malformed line holding a secret, unsupported profile.
  reset();
  write_default_profile();
  attempt();
  write_file(home_ / ".aws" / "credentials",
             "[default]\naws_secret_access_key = " + std::string(kProfileSecret) +
                 "\naws_session_token = " + std::string(kProfileToken) + "\n");
  attempt();
  write_file(home_ / ".aws" / "credentials", "[default]\n" + std::string(kProfileSecret) + "\n");
  attempt();
  write_file(home_ / ".aws" / "credentials",
             "aws_secret_access_key = " + std::string(kProfileSecret) + "\n[default]\n");
  attempt();
  write_file(home_ / ".aws" / "credentials",
             "[default]\nrole_arn = arn:aws:iam::1:role/x\naws_secret_access_key = " +
                 std::string(kDevSecret) + "\n");
  attempt();

  // Container: good with token and token file, a failing endpoint that echoes the token, a document
  // that is not JSON and one that misses a field, a token with a line break in it.
  reset();
  vars_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9911/creds";
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = std::string(kAuthToken);
  http_.reply("GET", "http://127.0.0.1:9911/creds", 200,
              credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T12:00:00Z"));
  {
    auto provider = chain();
    ASSERT_TRUE(provider->get(now_).ok());
    http_.clear_routes();
    http_.reply("GET", "http://127.0.0.1:9911/creds", 500,
                std::string(R"({"code":")") + std::string(kAuthToken) + R"(","message":"bad token )" +
                    std::string(kAuthToken) + "\"}");
    auto kept = provider->get(at("2026-11-29T11:59:00Z"));  // refresh fails: warning, old credentials
    ASSERT_TRUE(kept.ok());
    auto failed = provider->get(at("2026-11-29T12:00:01Z"));
    ASSERT_FALSE(failed.ok());
    errors.push_back(failed.error().to_string());
  }
  attempt();
  http_.clear_routes();
  http_.reply("GET", "http://127.0.0.1:9911/creds", 200,
              "SecretAccessKey=" + std::string(kContainerSecret) + " Token=" + std::string(kContainerToken));
  attempt();
  http_.clear_routes();
  http_.reply("GET", "http://127.0.0.1:9911/creds", 200,
              R"({"AccessKeyId":"ASIA","Token":")" + std::string(kContainerToken) + "\"}");
  attempt();
  http_.clear_routes();
  http_.reply("GET", "http://127.0.0.1:9911/creds", 200,
              R"({"AccessKeyId":"ASIA","SecretAccessKey":")" + std::string(kContainerSecret) +
                  R"(","Expiration":"never"})");
  attempt();
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = std::string(kAuthToken) + "\ninjected: header";
  attempt();
  const fs::path token_file = dir_.path() / "token";
  write_file(token_file, std::string(kAuthFileToken) + "\r\nX: y\n");
  vars_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = token_file.string();
  attempt();
  write_file(token_file, std::string(kAuthFileToken));
  http_.clear_routes();
  http_.reply("GET", "http://127.0.0.1:9911/creds", 200,
              credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T12:00:00Z"));
  attempt();

  // IMDS: good, a failure document, a transport failure after the token.
  reset();
  script_imds("2026-11-29T12:00:00Z");
  attempt();
  http_.clear_routes();
  http_.reply("PUT", "http://169.254.169.254/latest/api/token", 200, std::string(kImdsApiToken));
  http_.reply("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 200, "r");
  http_.reply("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/r", 200,
              R"({"Code":"Failure )" + std::string(kImdsSecret) + R"(","Message":")" +
                  std::string(kImdsApiToken) + "\"}");
  attempt();
  http_.clear_routes();
  http_.reply("PUT", "http://169.254.169.254/latest/api/token", 200, std::string(kImdsApiToken));
  attempt();
  http_.clear_routes();
  attempt();  // nothing at all

  // Every flow above ran.
  EXPECT_EQ(std::count(sources_used.begin(), sources_used.end(), "environment"), 1);
  EXPECT_EQ(std::count(sources_used.begin(), sources_used.end(), "profile default"), 1);
  EXPECT_EQ(std::count(sources_used.begin(), sources_used.end(), "container"), 1);
  EXPECT_EQ(std::count(sources_used.begin(), sources_used.end(), "imds"), 1);
  EXPECT_GE(errors.size(), 30u);

  ASSERT_FALSE(capture.lines().empty());
  bool saw_resolved = false;
  bool saw_refresh_warning = false;
  for (const std::string& line : capture.lines()) {
    for (std::string_view secret : all_secrets()) {
      EXPECT_EQ(line.find(secret), std::string::npos) << "secret '" << secret << "' in log line: " << line;
    }
    for (std::string_view id : {kEnvId, kProfileId, kContainerId, kImdsId}) {
      EXPECT_EQ(line.find(id), std::string::npos) << "unmasked access key id in: " << line;
    }
    if (line.find("\"aws.credentials.resolved\"") != std::string::npos &&
        line.find("\"access_key_id\":\"AKIA****WXYZ\"") != std::string::npos) {
      saw_resolved = true;
    }
    if (line.find("\"aws.credentials.refresh_failed\"") != std::string::npos) saw_refresh_warning = true;
  }
  EXPECT_TRUE(saw_resolved) << "the environment source should be logged with a masked key id";
  EXPECT_TRUE(saw_refresh_warning);
  for (const std::string& error : errors) {
    for (std::string_view secret : all_secrets()) {
      EXPECT_EQ(error.find(secret), std::string::npos) << "secret '" << secret << "' in error: " << error;
    }
  }
}

}  // namespace
}  // namespace es::aws
