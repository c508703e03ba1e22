#pragma once
/// AWS credentials and the provider chain: environment, shared files (AWS_PROFILE), container
/// credentials, EC2 IMDSv2. Secrets never reach a log: Credentials has no formatter that prints them.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http.h"
#include "core/env.h"
#include "core/result.h"

namespace es::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< empty when none
  /// When they expire, in microseconds since the epoch (core/time.h); none: never.
  std::optional<std::int64_t> expiration_us;
  std::string source;  ///< "environment", "profile default", "container", "imds" (for logs)
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  /// Current credentials at now_us (microseconds since the epoch), fetched or refreshed as needed
  /// (refreshed ahead of expiry). Thread-safe.
  [[nodiscard]] virtual Result<Credentials> get(std::int64_t now_us) = 0;
};

/// Fixed credentials (tests, tools).
std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials c);

/// Factory for the HTTP client used by the container/IMDS providers (each call a fresh client).
/// Give these clients short limits, e.g. connect_timeout 1 s and request_timeout 5 s: off EC2 the
/// IMDS address does not answer at all, and the chain waits for the connect timeout before it can
/// report that no source works.
using HttpClientFactory = std::function<std::unique_ptr<HttpClient>()>;

/// The addresses a host name resolves to, as numeric strings ("127.0.0.1", "::1"); an error when
/// it does not resolve. The default (an empty HostResolver) asks getaddrinfo; tests give their own.
using HostResolver = std::function<Result<std::vector<std::string>>(const std::string& host)>;

/// The default chain, tried in order on first use: environment variables, shared credentials/config
/// files (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, ~/.aws), container credentials
/// (AWS_CONTAINER_CREDENTIALS_FULL_URI/RELATIVE_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]),
/// EC2 IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true). The first source that yields credentials
/// is kept and refreshed five minutes before expiry. The error when none works lists what was tried.
///
/// A source that is configured but broken stops the chain with its error instead of falling through
/// to a later source (which could be another identity): AWS_ACCESS_KEY_ID without
/// AWS_SECRET_ACCESS_KEY (or the reverse), an AWS_PROFILE that does not exist, a profile that uses
/// role_arn, credential_process, SSO or web identity (not supported), an unreachable or failing
/// container endpoint. When a refresh fails but the kept credentials have not expired yet, they are
/// returned (and a warning logged). Concurrent callers share one fetch. Environment variables and
/// files are read when a source is tried, not when the chain is made. An empty `env` reads the
/// process environment (process_environment(), core/env.h).
/// `resolve` checks the host of AWS_CONTAINER_CREDENTIALS_FULL_URI (empty: getaddrinfo).
std::shared_ptr<CredentialsProvider> make_default_credentials_chain(EnvLookup env, HttpClientFactory http,
                                                                    HostResolver resolve = {});

/// "AKIA****WXYZ": the first and last four characters of an access key id, for logs; "****" when it
/// is shorter than 12 characters. The only form in which credentials may appear in a log.
[[nodiscard]] std::string mask_access_key_id(std::string_view access_key_id);

}  // namespace es::aws
