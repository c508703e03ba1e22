#pragma once
/// AWS credentials and the provider chain: environment, shared files (AWS_PROFILE), container
/// credentials, EC2 IMDSv2. Secrets never reach a log: Credentials has no formatter that prints them.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "aws/http.h"
#include "core/result.h"

namespace es::aws {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;            ///< empty when none
  std::optional<TimePoint> expiration;  ///< none: never expires
  std::string source;                   ///< "environment", "profile default", "container", "imds" (for logs)
};

/// Reads an environment variable; injectable so that tests and the Lambda loop control it.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
/// The process environment.
EnvLookup process_env();

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  /// Current credentials, fetched or refreshed as needed (refreshed ahead of expiry). Thread-safe.
  [[nodiscard]] virtual Result<Credentials> get(TimePoint now) = 0;
};

/// Fixed credentials (tests, tools).
std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials c);

/// Factory for the HTTP client used by the container/IMDS providers (each call a fresh client).
using HttpClientFactory = std::function<std::unique_ptr<HttpClient>()>;

/// The default chain, tried in order on first use: environment variables, shared credentials/config
/// files (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, ~/.aws), container credentials
/// (AWS_CONTAINER_CREDENTIALS_FULL_URI/RELATIVE_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]),
/// EC2 IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true). The first source that yields credentials
/// is kept and refreshed five minutes before expiry. The error when none works lists what was tried.
std::shared_ptr<CredentialsProvider> make_default_credentials_chain(EnvLookup env, HttpClientFactory http);

}  // namespace es::aws
