#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include "aws/credentials.h"
#include "aws/credentials/source.h"
#include "aws/ini.h"
#include "core/clock.h"
#include "core/env.h"
#include "core/log.h"
#include "core/time.h"

namespace es::aws {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Secrets used below; the leak test checks that none of them reaches a log line or an error text.
constexpr std::string_view kEnvId = "AKIAENVIRONMENT0WXYZ";
constexpr std::string_view kEnvSecret = "envSecret/K7MDENG+bPxRfiCYzzzz";
constexpr std::string_view kEnvToken = "envSessionTokenFwoGZXIvYXdzzzz";
constexpr std::string_view kProfileId = "AKIAPROFILEDEFAULT01";
constexpr std::string_view kProfileSecret = "profileSecret/abcdefghijklmnop";
constexpr std::string_view kProfileToken = "profileSessionTokenQWERTYUIOP";
constexpr std::string_view kDevId = "AKIAPROFILEDEVELOP02";
constexpr std::string_view kDevSecret = "devSecret/zyxwvutsrqponmlkjih";
constexpr std::string_view kContainerId = "ASIACONTAINER0000001";
constexpr std::string_view kContainerSecret = "containerSecret/1234567890abcd";
constexpr std::string_view kContainerToken = "containerSessionTokenIQoJb3Jp";
constexpr std::string_view kAuthToken = "authTokenFromEnvVariable0123456";
constexpr std::string_view kAuthFileToken = "authTokenFromFileEKSpodIdentity";
constexpr std::string_view kImdsId = "ASIAINSTANCEROLE0001";
constexpr std::string_view kImdsSecret = "imdsSecret/ABCDEFGHIJKLMNOPQR";
constexpr std::string_view kImdsToken = "imdsSessionTokenIQoJb3JpZ2luX2Vj";
constexpr std::string_view kImdsApiToken = "AQAEAImdsApiSessionToken==";

const std::vector<std::string_view>& all_secrets() {
  static const std::vector<std::string_view> secrets = {
      kEnvSecret,      kEnvToken,  kProfileSecret, kProfileToken, kDevSecret, kContainerSecret,
      kContainerToken, kAuthToken, kAuthFileToken, kImdsSecret,   kImdsToken, kImdsApiToken};
  return secrets;
}

std::int64_t at(std::string_view iso) {
  auto t = parse_iso8601_us(iso);
  EXPECT_TRUE(t.ok()) << iso;
  return t.ok() ? *t : 0;
}

std::string credentials_json(std::string_view id, std::string_view secret, std::string_view token,
                             std::string_view expiration) {
  std::string out = "{\"Code\":\"Success\",\"LastUpdated\":\"2026-11-29T09:00:00Z\",\"Type\":\"AWS-HMAC\",";
  out += "\"AccessKeyId\":\"" + std::string(id) + "\",\"SecretAccessKey\":\"" + std::string(secret) + "\"";
  if (!token.empty()) out += ",\"Token\":\"" + std::string(token) + "\"";
  if (!expiration.empty()) out += ",\"Expiration\":\"" + std::string(expiration) + "\"";
  out += "}";
  return out;
}

// ---- a scripted HttpClient -----------------------------------------------------------------------

struct SeenRequest {
  std::string method;
  std::string url;
  Headers headers;

  [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < k.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(k[i])) !=
            std::tolower(static_cast<unsigned char>(name[i]))) {
          same = false;
        }
      }
      if (same) return v;
    }
    return std::nullopt;
  }
};

/// Replies by "METHOD url"; a route's replies are used in order and the last one repeats. Requests
/// without a route fail like a refused connection.
class HttpScript {
 public:
  using Reply = std::function<Result<HttpResponse>()>;

  void reply(const std::string& method, const std::string& url, int status, std::string body) {
    route(method, url, [status, body = std::move(body)]() -> Result<HttpResponse> {
      HttpResponse r;
      r.status = status;
      r.body = body;
      return r;
    });
  }
  void route(const std::string& method, const std::string& url, Reply reply) {
    std::lock_guard lock(mutex_);
    routes_[method + " " + url].push_back(std::move(reply));
  }
  void clear_routes() {
    std::lock_guard lock(mutex_);
    routes_.clear();
  }

  Result<HttpResponse> handle(const HttpRequest& request) {
    Reply reply;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back({request.method, request.url, request.headers});
      auto it = routes_.find(request.method + " " + request.url);
      if (it != routes_.end() && !it->second.empty()) {
        reply = it->second.front();
        if (it->second.size() > 1) it->second.erase(it->second.begin());
      }
    }
    if (reply) return reply();
    Error e;
    e.kind = ErrorKind::kTransport;
    e.retryable = true;
    e.message = "Couldn't connect to server";
    return e;
  }

  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

  HttpClientFactory factory() {
    class Client final : public HttpClient {
     public:
      explicit Client(HttpScript* script) : script_(script) {}
      Result<HttpResponse> send(const HttpRequest& request) override { return script_->handle(request); }

     private:
      HttpScript* script_;
    };
    return [this] { return std::make_unique<Client>(this); };
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<Reply>> routes_;
  std::vector<SeenRequest> requests_;
};

// ---- fixture -------------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "es-creds-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

class CredentialsChainTest : public ::testing::Test {
 protected:
  CredentialsChainTest() {
    home_ = dir_.path() / "home";
    fs::create_directories(home_);
    vars_["HOME"] = home_.string();
  }

  EnvLookup env() {
    return [this](std::string_view name) -> std::optional<std::string> {
      const auto it = vars_.find(std::string(name));
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  std::shared_ptr<CredentialsProvider> chain() {
    return make_default_credentials_chain(env(), http_.factory());
  }

  void set_env_credentials() {
    vars_["AWS_ACCESS_KEY_ID"] = std::string(kEnvId);
    vars_["AWS_SECRET_ACCESS_KEY"] = std::string(kEnvSecret);
    vars_["AWS_SESSION_TOKEN"] = std::string(kEnvToken);
  }
  void write_default_profile() {
    write_file(home_ / ".aws" / "credentials",
               "[default]\naws_access_key_id = " + std::string(kProfileId) +
                   "\naws_secret_access_key = " + std::string(kProfileSecret) +
                   "\naws_session_token = " + std::string(kProfileToken) + "\n");
  }
  void set_container_relative() {
    vars_["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/0f5a";
    http_.reply("GET", "http://169.254.170.2/v2/credentials/0f5a", 200,
                credentials_json(kContainerId, kContainerSecret, kContainerToken, "2026-11-29T12:00:00Z"));
  }
  void script_imds(std::string_view expiration, std::string_view id = kImdsId) {
    http_.reply("PUT", "http://169.254.169.254/latest/api/token", 200, std::string(kImdsApiToken));
    http_.reply("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 200,
                "eaglesense-role\n");
    http_.reply("GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/eaglesense-role",
                200, credentials_json(id, kImdsSecret, kImdsToken, expiration));
  }

  TempDir dir_;
  fs::path home_;
  std::map<std::string, std::string> vars_;
  HttpScript http_;
  const std::int64_t now_ = at("2026-11-29T10:00:00Z");
};

// ---- helpers -------------------------------------------------------------------------------------

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

TEST(ContainerHost, AllowedPlainHttpHosts) {
  for (const char* ok : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "0:0:0:0:0:0:0:1", "169.254.170.2",
                         "169.254.170.23", "fd00:ec2::23", "FD00:EC2:0::23"}) {
    EXPECT_TRUE(internal::is_allowed_container_host(ok)) << ok;
  }
  for (const char* bad :
       {"128.0.0.1", "169.254.169.254", "example.com", "127.0.0.1.evil.com", "::2", "10.0.0.1"}) {
    EXPECT_FALSE(internal::is_allowed_container_host(bad)) << bad;
  }
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

TEST(ProcessEnv, ReadsTheProcessEnvironment) {
  ::setenv("EAGLESENSE_CREDENTIALS_TEST_VAR", "value", 1);
  const auto env = process_environment();
  EXPECT_EQ(env("EAGLESENSE_CREDENTIALS_TEST_VAR"), "value");
  EXPECT_EQ(env("EAGLESENSE_CREDENTIALS_TEST_UNSET_VAR"), std::nullopt);
  ::unsetenv("EAGLESENSE_CREDENTIALS_TEST_VAR");
}

// ---- environment ---------------------------------------------------------------------------------

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

// ---- shared files --------------------------------------------------------------------------------

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

// ---- container -----------------------------------------------------------------------------------

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

// ---- IMDSv2 --------------------------------------------------------------------------------------

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

// ---- caching and refresh -------------------------------------------------------------------------

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

// ---- nothing works -------------------------------------------------------------------------------

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

// ---- secrets never reach a log line or an error --------------------------------------------------

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
