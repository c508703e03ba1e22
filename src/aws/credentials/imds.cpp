// The EC2 instance metadata source, IMDSv2 only (a session token first, then the role's credentials).

#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "aws/credentials/source.h"
#include "aws/endpoint.h"
#include "core/text.h"

namespace es::aws {
namespace {

using internal::env_value;
using internal::has_control_char;
using internal::http_failure;
using internal::kOperation;
using text::trim;
constexpr auto lower = [](std::string_view s) { return text::to_lower(s); };

constexpr std::string_view kImdsEndpointVar = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
constexpr std::string_view kImdsModeVar = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
constexpr std::string_view kImdsTokenTtlSeconds = "21600";

class ImdsSource final : public CredentialSource {
 public:
  ImdsSource(EnvLookup env, HttpClientFactory http) : env_(std::move(env)), http_(std::move(http)) {}
  [[nodiscard]] std::string_view name() const override { return "EC2 instance metadata"; }
  [[nodiscard]] Lookup fetch() override;

 private:
  EnvLookup env_;
  HttpClientFactory http_;
};

bool valid_role_name(std::string_view role) {
  // IAM role names: letters, digits and "+=,.@_-", at most 64 characters.
  if (role.empty() || role.size() > 64) return false;
  for (char c : role) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("+=,.@_-", c) != nullptr;
    if (!ok) return false;
  }
  return true;
}

Lookup ImdsSource::fetch() {
  if (auto disabled = env_value(env_, "AWS_EC2_METADATA_DISABLED"); disabled && lower(*disabled) == "true") {
    return Lookup::not_configured("disabled by AWS_EC2_METADATA_DISABLED");
  }
  std::string base = "http://169.254.169.254";
  if (auto configured = env_value(env_, kImdsEndpointVar)) {
    auto endpoint = parse_endpoint(*configured, kImdsEndpointVar);
    if (!endpoint) return Lookup::failed(std::move(endpoint).error());
    base = endpoint->base_url();
  } else if (auto mode = env_value(env_, kImdsModeVar)) {
    const std::string m = lower(*mode);
    if (m == "ipv6") {
      base = "http://[fd00:ec2::254]";
    } else if (m != "ipv4") {
      return Lookup::failed(Error::invalid_argument(std::string(kImdsModeVar),
                                                    fmt::format("expected IPv4 or IPv6, got '{}'", *mode)));
    }
  }

  auto http = http_ ? http_() : nullptr;
  if (!http) return Lookup::failed(Error::internal("no HTTP client for the instance metadata service"));

  // IMDSv2: a session token first (PUT), then every GET carries it. IMDSv1 is not used.
  HttpRequest put;
  put.method = "PUT";
  put.url = base + "/latest/api/token";
  put.max_body_bytes = HttpRequest::kMaxCredentialsBody;
  put.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", std::string(kImdsTokenTtlSeconds));
  auto token_response = http->send(put);
  if (!token_response) {
    // Nothing listens there: not running on EC2 (or the hop limit is too low for a container).
    return Lookup::not_configured(
        fmt::format("no instance metadata service at {} ({})", base, token_response.error().message));
  }
  if (token_response->status != 200) {
    return Lookup::failed(
        http_failure(*token_response, "the IMDSv2 token request (PUT /latest/api/token)", base));
  }
  const std::string token(trim(token_response->body));
  if (token.empty() || has_control_char(token)) {
    return Lookup::failed(
        Error::invalid_data(base, "the instance metadata service returned an unusable token"));
  }

  const std::string roles_url = base + "/latest/meta-data/iam/security-credentials/";
  const auto get = [&](const std::string& url) {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    request.max_body_bytes = HttpRequest::kMaxCredentialsBody;
    return http->send(request);
  };
  auto roles = get(roles_url);
  if (!roles) {
    Error e = std::move(roles).error();
    e.retryable = true;
    return Lookup::failed(std::move(e).with_context(kOperation, roles_url));
  }
  if (roles->status == 404) {
    return Lookup::not_configured("the EC2 instance has no IAM role (instance profile) attached");
  }
  if (roles->status != 200)
    return Lookup::failed(http_failure(*roles, "the instance metadata service", roles_url));
  const std::string_view body = roles->body;
  const std::string_view role = trim(body.substr(0, body.find('\n')));
  if (role.empty())
    return Lookup::not_configured("the EC2 instance has no IAM role (instance profile) attached");
  if (!valid_role_name(role)) {
    return Lookup::failed(
        Error::invalid_data(roles_url, "the instance metadata service returned an invalid role name"));
  }

  const std::string credentials_url = roles_url + std::string(role);
  auto response = get(credentials_url);
  if (!response) {
    Error e = std::move(response).error();
    e.retryable = true;
    return Lookup::failed(std::move(e).with_context(kOperation, credentials_url));
  }
  if (response->status != 200) {
    return Lookup::failed(http_failure(*response, "the instance metadata service", credentials_url));
  }
  auto credentials = internal::parse_credentials_json(response->body, credentials_url);
  if (!credentials) return Lookup::failed(std::move(credentials).error());
  credentials->source = "imds";
  return Lookup::found(std::move(credentials).value());
}

}  // namespace

std::unique_ptr<CredentialSource> make_imds_source(EnvLookup env, HttpClientFactory http) {
  return std::make_unique<ImdsSource>(std::move(env), std::move(http));
}

}  // namespace es::aws
