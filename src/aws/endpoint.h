#pragma once
/// Endpoints and region from the environment (AWS_ENDPOINT_URL[_DYNAMODB|_S3], AWS_REGION,
/// AWS_DEFAULT_REGION), and how S3 addresses a bucket (path-style for custom endpoints,
/// virtual-hosted for AWS).

#include <string>
#include <string_view>

#include "core/env.h"
#include "core/result.h"

namespace es::aws {

struct Endpoint {
  std::string scheme;   ///< "http" or "https"
  std::string host;     ///< host name or IP, without port
  int port = 0;         ///< 0: the scheme's default
  bool custom = false;  ///< true when set by AWS_ENDPOINT_URL*, false for the AWS default

  /// "scheme://host[:port]"
  [[nodiscard]] std::string base_url() const;
  /// Host header value: "host[:port]" (port only when not the scheme default).
  [[nodiscard]] std::string authority() const;
};

/// Parses "http(s)://host[:port][/]"; names the setting in the error.
[[nodiscard]] Result<Endpoint> parse_endpoint(std::string_view url, std::string_view setting);

/// Region from AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1".
[[nodiscard]] std::string resolve_region(const EnvLookup& env);

/// service is "dynamodb", "s3", "monitoring" (CloudWatch), ...; its env suffix is the upper-case
/// service id (DYNAMODB, S3, CLOUDWATCH for monitoring, SFN for states). Order: AWS_ENDPOINT_URL_<SVC>,
/// AWS_ENDPOINT_URL, then https://<service>.<region>.amazonaws.com.
[[nodiscard]] Result<Endpoint> resolve_endpoint(std::string_view service, const EnvLookup& env,
                                                std::string_view region);

}  // namespace es::aws
