#pragma once
/// Pieces of the credentials chain exposed for unit tests; not part of the module's interface.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "core/result.h"
#include "core/time.h"

namespace es::aws::internal {

/// How long before Expiration the chain fetches new credentials (microseconds).
inline constexpr std::int64_t kRefreshAheadUs = 5 * kMicrosPerMinute;

/// Parses the JSON document served by the container credentials endpoint and by IMDS
/// ({"AccessKeyId","SecretAccessKey","Token","Expiration"[,"Code","Message"]}). Expiration is read
/// by core's parse_iso8601_us. Errors (kInvalidData, resource = `what`) name the missing or
/// malformed field, never a value from the document.
[[nodiscard]] Result<Credentials> parse_credentials_json(std::string_view body, std::string_view what);

/// Whole contents of a small local file. kNotFound when it does not exist, kIo for other failures
/// (both name the path); files larger than max_bytes are refused.
[[nodiscard]] Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes);

/// True when a plain-http container credentials URL may point at this host: loopback
/// (127.0.0.0/8, ::1, "localhost"), the ECS agent 169.254.170.2, the EKS Pod Identity agent
/// 169.254.170.23 / fd00:ec2::23. Host names are not resolved. `host` as in Endpoint (no brackets).
[[nodiscard]] bool is_allowed_container_host(std::string_view host);

}  // namespace es::aws::internal
