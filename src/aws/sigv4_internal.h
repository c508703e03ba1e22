#pragma once
/// Building blocks of the SigV4 signer, exposed for unit tests only (not part of the aws interface).

#include <cstdint>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/sigv4.h"
#include "core/hash.h"

namespace es::aws::sigv4_internal {

/// The pieces of an absolute URL that signing needs; views into the URL string.
struct UrlParts {
  std::string_view scheme;     ///< "http", "https"
  std::string_view authority;  ///< host[:port], user info removed
  std::string_view path;       ///< as written in the URL (still encoded); may be empty
  std::string_view query;      ///< after '?', before '#'; empty when none
};

/// Splits an absolute URL ("scheme://authority/path?query#fragment"). A URL without "://" is taken
/// as a path with an optional query.
[[nodiscard]] UrlParts split_url(std::string_view url);

/// The Host header value for a URL: host lower-cased, port kept unless it is the scheme's default
/// (80 for http, 443 for https), as botocore and the AWS SDKs send it.
[[nodiscard]] std::string host_from_url(std::string_view url);

/// RFC 3986 section 5.2.4 dot-segment removal plus collapsing of empty segments ("//"), the way the
/// AWS services (and botocore) normalize a path before signing. "" and "/.." become "/".
[[nodiscard]] std::string normalize_path(std::string_view path);

/// The canonical URI: with S3 rules the path as given; otherwise the normalized path URI-encoded
/// again (the "double encoding" every service but S3 expects). An empty path becomes "/".
[[nodiscard]] std::string canonical_uri(std::string_view path, bool s3_rules);

/// Decodes %XX escapes; anything else (including '+' and malformed escapes) is kept literally.
[[nodiscard]] std::string percent_decode(std::string_view in);

/// The canonical query string: parameters split on '&' (empty ones dropped), names and values
/// decoded then re-encoded per SigV4, a missing '=' read as an empty value, sorted by name then
/// value, joined as "name=value" with '&'.
[[nodiscard]] std::string canonical_query(std::string_view query);

/// "YYYYMMDDTHHMMSSZ" (UTC) of now_us (microseconds since the epoch), truncated to the second.
[[nodiscard]] std::string amz_date(std::int64_t now_us);

/// The derived signing key kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region,
/// service, "aws4_request". Cached per thread by (secret fingerprint, date, region, service).
[[nodiscard]] Sha256Digest signing_key(std::string_view secret, std::string_view date,
                                       std::string_view region, std::string_view service);

/// The signing key computed without the cache (for tests of the cache).
[[nodiscard]] Sha256Digest derive_signing_key(std::string_view secret, std::string_view date,
                                              std::string_view region, std::string_view service);

/// Knobs of sign_request that only tests turn.
struct SignOptions {
  /// With S3 rules, add x-amz-content-sha256 when absent. The SigV4 suite's S3-style vectors
  /// (normalize: false) check the path rules alone and sign no payload header; S3 itself requires it.
  bool add_s3_payload_header = true;
};

/// sign_request with options (the public sign_request uses the defaults).
SigningArtifacts sign_request(HttpRequest& request, const Credentials& credentials,
                              const SigningParams& params, std::int64_t now_us, const SignOptions& options);

}  // namespace es::aws::sigv4_internal
