#include "s3/s3_addressing.h"

#include <fmt/format.h>

#include "aws/sigv4.h"

namespace es::s3 {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_bucket_char(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_query(std::string& url, std::span<const QueryParam> query) {
  char separator = '?';
  for (const QueryParam& param : query) {
    url += separator;
    separator = '&';
    url += aws::uri_encode(param.name, true);
    if (param.has_value) {
      url += '=';
      url += aws::uri_encode(param.value, true);
    }
  }
}

}  // namespace

bool is_virtual_host_compatible(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (!is_lower_alnum(bucket.front()) || !is_lower_alnum(bucket.back())) return false;
  for (char c : bucket) {
    if (!is_lower_alnum(c) && c != '-') return false;
  }
  return true;
}

AddressingStyle addressing_style(const aws::Endpoint& endpoint, std::string_view bucket) {
  // Dotted names fail TLS verification against *.s3.<region>.amazonaws.com, so AWS itself
  // recommends path-style for them ("Virtual hosting of buckets", S3 user guide).
  if (endpoint.custom || !is_virtual_host_compatible(bucket)) return AddressingStyle::kPath;
  return AddressingStyle::kVirtualHosted;
}

Status validate_bucket_name(std::string_view bucket) {
  if (bucket.empty()) return Error::invalid_argument("bucket", "the bucket name is empty");
  if (bucket.size() > 255) {
    return Error::invalid_argument(std::string(bucket.substr(0, 64)) + "...",
                                   "the bucket name is longer than 255 characters");
  }
  for (char c : bucket) {
    if (!is_bucket_char(c)) {
      return Error::invalid_argument(
          std::string(bucket),
          "the bucket name may contain only letters, digits, '.', '-' and '_' (S3 bucket naming rules)");
    }
  }
  return ok_status();
}

Status validate_key(std::string_view key) {
  if (key.empty()) return Error::invalid_argument("key", "the object key is empty");
  if (key.size() > 1024) {
    return Error::invalid_argument(std::string(key.substr(0, 64)) + "...",
                                   "the object key is longer than 1024 bytes (S3 limit)");
  }
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      return Error::invalid_argument(std::string(key), "the object key contains a control character");
    }
  }
  // The HTTP transport (libcurl) removes "." and ".." path segments before sending, so such a key
  // would silently name another object.
  for (std::size_t begin = 0; begin <= key.size();) {
    std::size_t end = key.find('/', begin);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view segment = key.substr(begin, end - begin);
    if (segment == "." || segment == "..") {
      return Error::invalid_argument(std::string(key), "the object key has a '.' or '..' path segment");
    }
    begin = end + 1;
  }
  return ok_status();
}

std::string s3_url(const aws::Endpoint& endpoint, std::string_view bucket, std::string_view key,
                   std::span<const QueryParam> query) {
  std::string url;
  if (addressing_style(endpoint, bucket) == AddressingStyle::kVirtualHosted) {
    url = fmt::format("{}://{}.{}/", endpoint.scheme, bucket, endpoint.authority());
  } else {
    url = fmt::format("{}/{}", endpoint.base_url(), aws::uri_encode(bucket, true));
    if (!key.empty()) url += '/';
  }
  url += aws::uri_encode(key, false);
  append_query(url, query);
  return url;
}

bool url_decode_form(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

}  // namespace es::s3
