#pragma once
/// Pieces of the credentials chain exposed for unit tests; not part of the module's interface.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "core/result.h"

namespace es::aws::internal {

/// How long before Expiration the chain fetches new credentials.
inline constexpr std::chrono::minutes kRefreshAhead{5};

/// Parses "2026-11-29T10:15:42Z", with optional fractional seconds and a "+hh:mm"/"-hh:mm" offset
/// instead of "Z". std::nullopt when malformed or out of range.
[[nodiscard]] std::optional<TimePoint> parse_iso8601(std::string_view text);

/// Parses the JSON document served by the container credentials endpoint and by IMDS
/// ({"AccessKeyId","SecretAccessKey","Token","Expiration"[,"Code","Message"]}). Errors (kInvalidData,
/// resource = `what`) name the missing or malformed field, never a value from the document.
[[nodiscard]] Result<Credentials> parse_credentials_json(std::string_view body, std::string_view what);

/// Whole contents of a small local file. kNotFound when it does not exist, kIo for other failures
/// (both name the path); files larger than max_bytes are refused.
[[nodiscard]] Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes);

/// True when a plain-http container credentials URL may point at this host: loopback
/// (127.0.0.0/8, ::1, "localhost"), the ECS agent 169.254.170.2, the EKS Pod Identity agent
/// 169.254.170.23 / fd00:ec2::23. Host names are not resolved. `host` as in Endpoint (no brackets).
[[nodiscard]] bool is_allowed_container_host(std::string_view host);

}  // namespace es::aws::internal
