#pragma once
/// The sources of the credentials chain (aws/credentials.h), one per file of this folder behind the
/// CredentialSource interface, the chain that tries them (chain.cpp), and what several sources share
/// (source.cpp). Not part of the module's interface; unit tests use it.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "core/env.h"
#include "core/result.h"

namespace es::aws {

/// What one source of the chain answered.
struct Lookup {
  enum class Kind { kFound, kNotConfigured, kFailed };
  Kind kind = Kind::kNotConfigured;
  Credentials credentials;  ///< kFound
  std::string reason;       ///< kNotConfigured: why the source does not apply
  Error error;              ///< kFailed: configured but broken; stops the chain

  static Lookup found(Credentials c) {
    Lookup l;
    l.kind = Kind::kFound;
    l.credentials = std::move(c);
    return l;
  }
  static Lookup not_configured(std::string why) {
    Lookup l;
    l.reason = std::move(why);
    return l;
  }
  static Lookup failed(Error e) {
    Lookup l;
    l.kind = Kind::kFailed;
    l.error = std::move(e);
    return l;
  }
};

/// One link of the chain. fetch() reads its configuration each time it runs; the chain never runs
/// two fetches at once, so sources need no locking of their own.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  /// How messages name the source: "environment", "shared files", "container", "EC2 instance metadata".
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual Lookup fetch() = 0;
};

// The sources, in the order of the default chain.

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (environment.cpp).
[[nodiscard]] std::unique_ptr<CredentialSource> make_environment_source(EnvLookup env);
/// The shared credentials and config files, AWS_PROFILE (profile.cpp).
[[nodiscard]] std::unique_ptr<CredentialSource> make_profile_source(EnvLookup env);
/// Container credentials: ECS task role, EKS Pod Identity (container.cpp). `resolve` checks a
/// host name in AWS_CONTAINER_CREDENTIALS_FULL_URI (empty: getaddrinfo).
[[nodiscard]] std::unique_ptr<CredentialSource> make_container_source(EnvLookup env, HttpClientFactory http,
                                                                      HostResolver resolve = {});
/// The EC2 instance metadata service, IMDSv2 only (imds.cpp).
[[nodiscard]] std::unique_ptr<CredentialSource> make_imds_source(EnvLookup env, HttpClientFactory http);

/// The chain over `sources` (chain.cpp): tried in order on first use, the one that answers is kept
/// and refreshed ahead of expiry, as make_default_credentials_chain describes.
[[nodiscard]] std::shared_ptr<CredentialsProvider> make_credentials_chain(
    std::vector<std::unique_ptr<CredentialSource>> sources);

namespace internal {

/// Error::operation of the chain's errors.
inline constexpr std::string_view kOperation = "credentials";

/// A set, non-blank environment variable, trimmed.
[[nodiscard]] std::optional<std::string> env_value(const EnvLookup& env, std::string_view name);

/// True when s holds a control character (a line break would inject an HTTP header).
[[nodiscard]] bool has_control_char(std::string_view s);

/// Error for a non-200 answer of a credentials endpoint. Nothing from the body is quoted, not even an
/// error code: it is not ours to show and could echo the request's Authorization header.
[[nodiscard]] Error http_failure(const HttpResponse& response, std::string_view what,
                                 std::string_view resource);

/// Parses the JSON document served by the container credentials endpoint and by IMDS
/// ({"AccessKeyId","SecretAccessKey","Token","Expiration"[,"Code","Message"]}). Expiration is read
/// by core's parse_iso8601_us. Errors (kInvalidData, resource = `what`) name the missing or
/// malformed field, never a value from the document.
[[nodiscard]] Result<Credentials> parse_credentials_json(std::string_view body, std::string_view what);

/// Whole contents of a small local file. kNotFound when it does not exist, kIo for other failures
/// (both name the path); files larger than max_bytes are refused.
[[nodiscard]] Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes);

/// True when a plain-http container credentials URL may point at this address: loopback
/// (127.0.0.0/8, ::1), the ECS agent 169.254.170.2, the EKS Pod Identity agent 169.254.170.23 /
/// fd00:ec2::23. `host` as in Endpoint (no brackets); a name is never allowed here. (container.cpp)
[[nodiscard]] bool is_allowed_container_address(std::string_view host);

/// OK when a plain-http container credentials URL may point at this host, as the AWS SDKs decide:
/// an address must be allowed (is_allowed_container_address); a name (even "localhost", which
/// /etc/hosts may point anywhere) is resolved with `resolve` (empty: getaddrinfo) and every address
/// it resolves to must be allowed. Else kInvalidArgument naming AWS_CONTAINER_CREDENTIALS_FULL_URI,
/// the host and what it resolved to. (container.cpp)
[[nodiscard]] Status check_container_host(std::string_view host, const HostResolver& resolve);

/// getaddrinfo's addresses of a host name, numeric. (container.cpp)
[[nodiscard]] Result<std::vector<std::string>> resolve_host(const std::string& host);

}  // namespace internal
}  // namespace es::aws
