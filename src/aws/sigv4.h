#pragma once
/// AWS Signature Version 4 for HTTP Authorization headers.
/// Reference: "Create a signed AWS API request" (AWS General Reference) and the SigV4 test suite.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http.h"

namespace es::aws {

struct SigningParams {
  std::string region;   ///< e.g. "us-east-1"
  std::string service;  ///< signing name: "dynamodb", "s3", "monitoring", ...
  /// S3's rules: the path is used as given (no normalization, no second encoding) and an
  /// x-amz-content-sha256 header carrying the payload hash is added and signed.
  bool s3_rules = false;
};

/// The intermediate products of signing, exposed for tests and debug logs (contain no secret).
struct SigningArtifacts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      ///< lower-case hex
  std::string authorization;  ///< value of the Authorization header
};

/// Signs request in place: adds X-Amz-Date, X-Amz-Security-Token (when the credentials carry a
/// session token), X-Amz-Content-Sha256 (S3 rules, unless already present, e.g. UNSIGNED-PAYLOAD),
/// Host (from the URL, when absent) and Authorization. An X-Amz-Date already present in the
/// request is kept and used (the test vectors rely on that). All other headers present are signed.
/// now_us: the signing time, microseconds since the epoch (core/time.h); the caller's clock gives it.
SigningArtifacts sign_request(HttpRequest& request, const Credentials& credentials,
                              const SigningParams& params, std::int64_t now_us);

/// Options of query-string signing (presigned URLs).
struct PresignOptions {
  /// X-Amz-Expires: how long the URL stays valid, 1 second to 7 days.
  std::chrono::seconds expires{3600};
  /// Payload hash put in the canonical request. Default: "UNSIGNED-PAYLOAD" with S3 rules (the body
  /// of a presigned request is not known when the URL is made), the SHA-256 of request.body otherwise.
  std::optional<std::string> payload_hash;
};

/// Presigns request in place: appends X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
/// X-Amz-SignedHeaders, X-Amz-Security-Token (when the credentials carry a session token) and
/// X-Amz-Signature to request.url. Signs the host (from the URL) and every header present; adds no
/// header. SigningArtifacts::authorization is left empty.
SigningArtifacts presign(HttpRequest& request, const Credentials& credentials, const SigningParams& params,
                         std::int64_t now_us, const PresignOptions& options = {});

/// URI-encodes per SigV4: unreserved characters (A-Z a-z 0-9 - _ . ~) kept, everything else %XX
/// upper-case; '/' kept when encode_slash is false (object keys in paths).
std::string uri_encode(std::string_view in, bool encode_slash);

}  // namespace es::aws
