// What the credential sources share: environment values, HTTP failures, the JSON document of the
// container and IMDS endpoints, small local files.

#include "aws/credentials/source.h"

#include <cerrno>
#include <cstdio>
#include <system_error>

#include <fmt/format.h>

#include "core/json_reader.h"
#include "core/text.h"
#include "core/time.h"

namespace es::aws::internal {
namespace {

/// An AWS error code is echoed only when it looks like one: a server could put anything there.
std::string safe_code(std::string_view code) {
  if (code.size() > 64) return {};
  for (char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return {};
  }
  return std::string(code);
}

}  // namespace

std::optional<std::string> env_value(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (!value) return std::nullopt;
  const std::string_view trimmed = text::trim(*value);
  if (trimmed.empty()) return std::nullopt;
  return std::string(trimmed);
}

bool has_control_char(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Error http_failure(const HttpResponse& response, std::string_view what, std::string_view resource) {
  Error e;
  e.http_status = response.status;
  e.kind = response.status == 401 || response.status == 403 ? ErrorKind::kAccessDenied
           : response.status == 429                         ? ErrorKind::kThrottled
                                                            : ErrorKind::kServiceError;
  e.retryable = response.status == 429 || response.status >= 500;
  e.resource = std::string(resource);
  e.message = fmt::format("{} answered HTTP {}", what, response.status);
  return e;
}

Result<Credentials> parse_credentials_json(std::string_view body, std::string_view what) {
  const std::string resource(what);
  auto root = json::parse_document(body, resource);
  if (!root.ok()) {
    return Error::invalid_data(resource, fmt::format("credentials response is not valid JSON ({})",
                                                     json::not_json_reason(root.error())));
  }
  const json::Value& object = *root;
  if (!object.is_object()) return Error::invalid_data(resource, "credentials response is not a JSON object");
  if (auto code = object.string("Code"); code.ok() && *code != "Success") {
    Error e = Error::invalid_data(resource, "credentials response reports a failure");
    e.code = safe_code(*code);
    e.retryable = true;
    return e;
  }
  // A field that is there must be a string (null is not); only an optional one may be absent.
  const auto field = [&](std::string_view key, bool required, std::string& out) -> Status {
    if (!object.has(key) && !required) return ok_status();
    auto value = object.string(key);
    if (!value.ok()) {
      return Error::invalid_data(resource,
                                 fmt::format("credentials response lacks the string field {}", key));
    }
    if (value->empty() && required) {
      return Error::invalid_data(resource, fmt::format("credentials response has an empty {}", key));
    }
    out = std::string(*value);
    return ok_status();
  };
  Credentials c;
  ES_TRY(field("AccessKeyId", true, c.access_key_id));
  ES_TRY(field("SecretAccessKey", true, c.secret_access_key));
  ES_TRY(field("Token", false, c.session_token));
  std::string expiration;
  ES_TRY(field("Expiration", false, expiration));
  if (!expiration.empty()) {
    auto at = parse_iso8601_us(expiration);
    if (!at) {
      return Error::invalid_data(
          resource, fmt::format("credentials response has an unreadable Expiration '{}'", expiration));
    }
    c.expiration_us = *at;
  }
  return c;
}

Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int err = errno;
    Error e = Error::io(path, std::system_category().message(err));
    if (err == ENOENT) {
      e.kind = ErrorKind::kNotFound;
      e.message = "file not found";
    }
    return e;
  }
  std::string text;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
    if (text.size() > max_bytes)
      return Error::io(path, fmt::format("file is larger than {} bytes", max_bytes));
  }
  if (std::ferror(file.get()) != 0) return Error::io(path, "read failed (is it a directory?)");
  return text;
}

}  // namespace es::aws::internal
