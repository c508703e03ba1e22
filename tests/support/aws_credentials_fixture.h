#pragma once
// What the credentials tests (tests/unit/aws_credentials_*_test.cpp) share: the secrets they plant
// and look for, a scripted HttpClient, a temporary HOME, and the CredentialsChainTest fixture, which
// runs the default chain over an environment, files and endpoints of its own.

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include "aws/credentials.h"
#include "aws/http.h"
#include "core/env.h"
#include "core/result.h"
#include "core/time.h"

namespace es::aws::credentials_test {

namespace fs = std::filesystem;

// Secrets used below; the leak test checks that none of them reaches a log line or an error text.
inline constexpr std::string_view kEnvId = "AKIAENVIRONMENT0WXYZ";
inline constexpr std::string_view kEnvSecret = "envSecret/K7MDENG+bPxRfiCYzzzz";
inline constexpr std::string_view kEnvToken = "envSessionTokenFwoGZXIvYXdzzzz";
inline constexpr std::string_view kProfileId = "AKIAPROFILEDEFAULT01";
inline constexpr std::string_view kProfileSecret = "profileSecret/abcdefghijklmnop";
inline constexpr std::string_view kProfileToken = "profileSessionTokenQWERTYUIOP";
inline constexpr std::string_view kDevId = "AKIAPROFILEDEVELOP02";
inline constexpr std::string_view kDevSecret = "devSecret/zyxwvutsrqponmlkjih";
inline constexpr std::string_view kContainerId = "ASIACONTAINER0000001";
inline constexpr std::string_view kContainerSecret = "containerSecret/1234567890abcd";
inline constexpr std::string_view kContainerToken = "containerSessionTokenIQoJb3Jp";
inline constexpr std::string_view kAuthToken = "authTokenFromEnvVariable0123456";
inline constexpr std::string_view kAuthFileToken = "authTokenFromFileEKSpodIdentity";
inline constexpr std::string_view kImdsId = "ASIAINSTANCEROLE0001";
inline constexpr std::string_view kImdsSecret = "imdsSecret/ABCDEFGHIJKLMNOPQR";
inline constexpr std::string_view kImdsToken = "imdsSessionTokenIQoJb3JpZ2luX2Vj";
inline constexpr std::string_view kImdsApiToken = "AQAEAImdsApiSessionToken==";

inline const std::vector<std::string_view>& all_secrets() {
  static const std::vector<std::string_view> secrets = {
      kEnvSecret,      kEnvToken,  kProfileSecret, kProfileToken, kDevSecret, kContainerSecret,
      kContainerToken, kAuthToken, kAuthFileToken, kImdsSecret,   kImdsToken, kImdsApiToken};
  return secrets;
}

inline std::int64_t at(std::string_view iso) {
  auto t = parse_iso8601_us(iso);
  EXPECT_TRUE(t.ok()) << iso;
  return t.ok() ? *t : 0;
}

inline std::string credentials_json(std::string_view id, std::string_view secret, std::string_view token,
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

inline void write_file(const fs::path& path, std::string_view text) {
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
    return make_default_credentials_chain(env(), http_.factory(), resolver());
  }
  /// Resolves the names in hosts_ only (no /etc/hosts, no DNS).
  HostResolver resolver() {
    return [this](const std::string& host) -> Result<std::vector<std::string>> {
      const auto it = hosts_.find(host);
      if (it == hosts_.end()) return Error::invalid_argument(host, "Name or service not known");
      return it->second;
    };
  }
  std::map<std::string, std::vector<std::string>> hosts_ = {{"localhost", {"127.0.0.1", "::1"}}};

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

}  // namespace es::aws::credentials_test
