#pragma once
/// How an S3 request names its bucket and key in a URL: path-style for custom endpoints (local
/// servers, S3-compatible stores), virtual-hosted for AWS, path-style again for bucket names that
/// cannot be a TLS host label (dots, upper case, underscores).

#include <span>
#include <string>
#include <string_view>

#include "aws/endpoint.h"
#include "core/result.h"

namespace es::s3 {

enum class AddressingStyle {
  kPath,           ///< {endpoint}/{bucket}/{key}
  kVirtualHosted,  ///< https://{bucket}.{endpoint host}/{key}
};

/// One query parameter; name and value are URI-encoded when the URL is built. has_value = false
/// writes the bare name, as S3 sub-resources are written ("?uploads", "?delete").
struct QueryParam {
  std::string name;
  std::string value;
  bool has_value = true;
};

/// kPath when endpoint.custom or the bucket name is not a DNS label without dots; else kVirtualHosted.
[[nodiscard]] AddressingStyle addressing_style(const aws::Endpoint& endpoint, std::string_view bucket);

/// True for a name that is a valid DNS label usable under S3's wildcard TLS certificate:
/// 3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit.
[[nodiscard]] bool is_virtual_host_compatible(std::string_view bucket);

/// Accepts any name S3 has ever allowed (1-255 characters of A-Z a-z 0-9 . - _) and nothing that
/// could change a URL's meaning. The error names the bucket and says what is wrong.
[[nodiscard]] Status validate_bucket_name(std::string_view bucket);

/// Keys: 1-1024 bytes. Any byte is allowed (it is URI-encoded) but control characters, and no
/// "." or ".." path segment (HTTP clients remove those from URLs).
[[nodiscard]] Status validate_key(std::string_view key);

/// The absolute URL of bucket, or of key in bucket when key is not empty: the key is URI-encoded
/// with '/' kept, the query parameters appended in the order given.
[[nodiscard]] std::string s3_url(const aws::Endpoint& endpoint, std::string_view bucket, std::string_view key,
                                 std::span<const QueryParam> query = {});

/// Decodes %XX escapes and '+' (space), as S3 writes keys in listings asked for with
/// encoding-type=url. Returns false on a malformed escape.
[[nodiscard]] bool url_decode_form(std::string_view in, std::string& out);

}  // namespace es::s3
