#include "aws/sigv4.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <ctime>
#include <utility>
#include <vector>

#include "aws/sigv4_internal.h"
#include "core/hash.h"
#include "core/time.h"

namespace es::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr char kUpperHex[] = "0123456789ABCDEF";

constexpr std::array<bool, 256> make_unreserved_table() {
  std::array<bool, 256> table{};
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (const char c : {'-', '_', '.', '~'}) table[static_cast<std::size_t>(c)] = true;
  return table;
}
constexpr auto kUnreserved = make_unreserved_table();

// The payload hash of a request whose hash was not given: a body read while it is sent
// (HttpRequest::body_source) cannot be hashed before it is signed.
std::string payload_sha256(const HttpRequest& request) {
  return request.body_source != nullptr ? std::string(kUnsignedPayload) : hex_encode(sha256(request.body));
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// The whitespace Python's str.split() (botocore's Trimall) and the SDKs fold in header values.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Trimall: leading/trailing whitespace removed, inner runs (including folded line breaks of
// multi-line values) reduced to one space.
std::string canonical_header_value(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (const char c : value) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

const std::string* find_header(const Headers& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (iequals(name, lower_name)) return &value;
  }
  return nullptr;
}

void erase_headers(Headers& headers, std::string_view lower_name) {
  std::erase_if(headers, [&](const auto& h) { return iequals(h.first, lower_name); });
}

bool is_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  for (std::size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return false;
  }
  return true;
}

struct CanonicalHeaders {
  std::string block;         // "name:value\n" per distinct name, sorted
  std::string signed_names;  // "name;name..."
};

CanonicalHeaders canonicalize_headers(const Headers& headers, std::string_view url) {
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(headers.size() + 1);
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    entries.emplace_back(to_lower(name), canonical_header_value(value));
    has_host = has_host || entries.back().first == "host";
  }
  if (!has_host) entries.emplace_back("host", sigv4_internal::host_from_url(url));
  // Stable: values of a repeated header keep their order (get-header-value-order).
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  CanonicalHeaders out;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const bool same_as_previous = i > 0 && entries[i].first == entries[i - 1].first;
    if (same_as_previous) {
      out.block.back() = ',';
    } else {
      out.block += entries[i].first;
      out.block += ':';
      if (!out.signed_names.empty()) out.signed_names += ';';
      out.signed_names += entries[i].first;
    }
    out.block += entries[i].second;
    out.block += '\n';
  }
  return out;
}

std::string credential_scope(std::string_view date, const SigningParams& params) {
  std::string scope;
  scope.reserve(date.size() + params.region.size() + params.service.size() + 16);
  scope.append(date.substr(0, 8)).append("/").append(params.region).append("/");
  scope.append(params.service).append("/aws4_request");
  return scope;
}

struct CanonicalInput {
  std::string_view method;
  std::string_view url;
  std::string_view query;  // replaces the URL's query when set (presigning adds parameters)
  bool query_override = false;
  const CanonicalHeaders* headers = nullptr;
  std::string_view payload_hash;
  std::string_view amz_date;
};

SigningArtifacts compute_signature(const CanonicalInput& in, const Credentials& credentials,
                                   const SigningParams& params) {
  const sigv4_internal::UrlParts url = sigv4_internal::split_url(in.url);
  SigningArtifacts out;
  std::string& cr = out.canonical_request;
  for (const char c : in.method) cr.push_back(ascii_upper(c));
  cr += '\n';
  cr += sigv4_internal::canonical_uri(url.path, params.s3_rules);
  cr += '\n';
  cr += sigv4_internal::canonical_query(in.query_override ? in.query : url.query);
  cr += '\n';
  cr += in.headers->block;
  cr += '\n';
  cr += in.headers->signed_names;
  cr += '\n';
  cr += in.payload_hash;

  const std::string scope = credential_scope(in.amz_date, params);
  out.string_to_sign.append(kAlgorithm).append("\n").append(in.amz_date).append("\n");
  out.string_to_sign.append(scope).append("\n").append(hex_encode(sha256(cr)));

  const Sha256Digest key = sigv4_internal::signing_key(
      credentials.secret_access_key, in.amz_date.substr(0, 8), params.region, params.service);
  out.signature = hex_encode(
      hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),  // NOLINT
                  out.string_to_sign));
  return out;
}

}  // namespace

namespace sigv4_internal {

UrlParts split_url(std::string_view url) {
  UrlParts parts;
  if (const auto hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  std::string_view rest = url;
  // "://" counts only before the path starts ("/a?next=http://b" is a path with a query).
  if (const auto sep = url.find("://"); sep != std::string_view::npos && sep < url.find_first_of("/?")) {
    parts.scheme = url.substr(0, sep);
    rest = url.substr(sep + 3);
    const auto end = rest.find_first_of("/?");
    parts.authority = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    if (const auto at = parts.authority.rfind('@'); at != std::string_view::npos) {
      parts.authority.remove_prefix(at + 1);
    }
  }
  const auto q = rest.find('?');
  parts.path = rest.substr(0, q);
  if (q != std::string_view::npos) parts.query = rest.substr(q + 1);
  return parts;
}

std::string host_from_url(std::string_view url) {
  const UrlParts parts = split_url(url);
  std::string_view host = parts.authority;
  std::string_view port;
  // The port follows the last ':' unless that ':' is inside an IPv6 literal ("[::1]").
  if (const auto colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  std::string out = to_lower(host);
  const bool default_port =
      (iequals(parts.scheme, "http") && port == "80") || (iequals(parts.scheme, "https") && port == "443");
  if (!port.empty() && !default_port) {
    out += ':';
    out += port;
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = slash + 1;
  }
  std::string out;
  out.reserve(path.size());
  if (path.front() == '/') out += '/';
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  // A trailing slash survives only when something is left to carry it ("/a/b/.." is "/a", not "/a/"),
  // matching botocore.
  if (path.back() == '/' && !segments.empty()) out += '/';
  return out;
}

std::string canonical_uri(std::string_view path, bool s3_rules) {
  if (path.empty()) return "/";
  if (s3_rules) return std::string(path);
  return uri_encode(normalize_path(path), false);
}

std::string percent_decode(std::string_view in) {
  const auto hex_value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto amp = std::min(query.find('&', start), query.size());
    const std::string_view param = query.substr(start, amp - start);
    start = amp + 1;
    // "a=1&&b=2" or a trailing '&' carry no parameter; botocore would sign an empty "=" pair, the
    // services ignore it. Our own URL builders never produce one.
    if (param.empty()) continue;
    const auto eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    params.emplace_back(uri_encode(percent_decode(name), true), uri_encode(percent_decode(value), true));
  }
  // Sorted by the encoded bytes: "%E1%88%B4" sorts before "Param" (get-vanilla-query-order-encoded).
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string amz_date(std::int64_t now_us) {
  // Floor to the second, also before the epoch.
  const std::int64_t seconds = now_us / kMicrosPerSecond - (now_us % kMicrosPerSecond < 0 ? 1 : 0);
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

Sha256Digest derive_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                std::string_view service) {
  const auto view = [](const Sha256Digest& d) {
    return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());  // NOLINT
  };
  std::string seed = "AWS4";
  seed += secret;
  const Sha256Digest k_date = hmac_sha256(seed, date);
  std::fill(seed.begin(), seed.end(), '\0');  // do not leave a copy of the secret in freed memory
  const Sha256Digest k_region = hmac_sha256(view(k_date), region);
  const Sha256Digest k_service = hmac_sha256(view(k_region), service);
  return hmac_sha256(view(k_service), "aws4_request");
}

Sha256Digest signing_key(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service) {
  // The key changes once a day per (credentials, region, service): a thread keeps the last few so
  // that thousands of requests cost one HMAC each instead of five. Thread-local, so no lock; keyed
  // by a digest of the secret so no copy of it is kept here.
  struct Entry {
    Sha256Digest secret_digest{};
    std::string date, region, service;
    Sha256Digest key{};
    bool used = false;
  };
  constexpr std::size_t kEntries = 4;
  thread_local std::array<Entry, kEntries> cache;
  thread_local std::size_t next = 0;

  const Sha256Digest secret_digest = sha256(secret);
  for (const Entry& e : cache) {
    if (e.used && e.secret_digest == secret_digest && e.date == date && e.region == region &&
        e.service == service) {
      return e.key;
    }
  }
  Entry& e = cache[next];
  next = (next + 1) % kEntries;
  e.secret_digest = secret_digest;
  e.date = date;
  e.region = region;
  e.service = service;
  e.key = derive_signing_key(secret, date, region, service);
  e.used = true;
  return e.key;
}

}  // namespace sigv4_internal

std::string uri_encode(std::string_view in, bool encode_slash) {
  std::string out;
  out.reserve(in.size() + in.size() / 2);
  for (const char c : in) {
    const auto b = static_cast<unsigned char>(c);
    if (kUnreserved[b] || (c == '/' && !encode_slash)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[b >> 4]);
      out.push_back(kUpperHex[b & 0x0F]);
    }
  }
  return out;
}

SigningArtifacts sigv4_internal::sign_request(HttpRequest& request, const Credentials& credentials,
                                              const SigningParams& params, std::int64_t now_us,
                                              const SignOptions& options) {
  // A request signed before (a retry) must not carry its old signature into the new one.
  erase_headers(request.headers, "authorization");

  std::string date;
  if (const std::string* existing = find_header(request.headers, "x-amz-date");
      existing != nullptr && is_amz_date(trim(*existing))) {
    date = trim(*existing);
  } else {
    erase_headers(request.headers, "x-amz-date");
    date = sigv4_internal::amz_date(now_us);
    request.headers.emplace_back("X-Amz-Date", date);
  }
  if (!credentials.session_token.empty()) {
    erase_headers(request.headers, "x-amz-security-token");
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  if (params.s3_rules && options.add_s3_payload_header &&
      find_header(request.headers, "x-amz-content-sha256") == nullptr) {
    request.headers.emplace_back("x-amz-content-sha256", payload_sha256(request));
  }
  if (find_header(request.headers, "host") == nullptr) {
    request.headers.emplace_back("Host", sigv4_internal::host_from_url(request.url));
  }

  // A payload hash given in the header (UNSIGNED-PAYLOAD, or one computed while streaming) is the
  // one the service checks against, so it is the one signed.
  std::string payload_hash;
  if (const std::string* given = find_header(request.headers, "x-amz-content-sha256")) {
    payload_hash = trim(*given);
  } else {
    payload_hash = payload_sha256(request);
  }

  const CanonicalHeaders headers = canonicalize_headers(request.headers, request.url);
  CanonicalInput in;
  in.method = request.method;
  in.url = request.url;
  in.headers = &headers;
  in.payload_hash = payload_hash;
  in.amz_date = date;
  SigningArtifacts out = compute_signature(in, credentials, params);

  out.authorization.append(kAlgorithm).append(" Credential=").append(credentials.access_key_id);
  out.authorization.append("/").append(credential_scope(date, params));
  out.authorization.append(", SignedHeaders=").append(headers.signed_names);
  out.authorization.append(", Signature=").append(out.signature);
  request.headers.emplace_back("Authorization", out.authorization);
  return out;
}

SigningArtifacts sign_request(HttpRequest& request, const Credentials& credentials,
                              const SigningParams& params, std::int64_t now_us) {
  return sigv4_internal::sign_request(request, credentials, params, now_us, {});
}

SigningArtifacts presign(HttpRequest& request, const Credentials& credentials, const SigningParams& params,
                         std::int64_t now_us, const PresignOptions& options) {
  assert(options.expires.count() >= 1 && options.expires.count() <= 604'800 && "SigV4 allows 1 s to 7 days");
  const std::string date = sigv4_internal::amz_date(now_us);
  const CanonicalHeaders headers = canonicalize_headers(request.headers, request.url);

  std::string added = "X-Amz-Algorithm=";
  added.append(kAlgorithm);
  added += "&X-Amz-Credential=";
  added += uri_encode(credentials.access_key_id + "/" + credential_scope(date, params), true);
  added += "&X-Amz-Date=" + date;
  added += "&X-Amz-Expires=" + std::to_string(options.expires.count());
  added += "&X-Amz-SignedHeaders=" + uri_encode(headers.signed_names, true);
  if (!credentials.session_token.empty()) {
    added += "&X-Amz-Security-Token=" + uri_encode(credentials.session_token, true);
  }

  const sigv4_internal::UrlParts url = sigv4_internal::split_url(request.url);
  const std::string query = url.query.empty() ? added : std::string(url.query) + "&" + added;

  std::string payload_hash;
  if (options.payload_hash) {
    payload_hash = *options.payload_hash;
  } else if (params.s3_rules) {
    payload_hash = kUnsignedPayload;
  } else {
    payload_hash = hex_encode(sha256(request.body));
  }

  CanonicalInput in;
  in.method = request.method;
  in.url = request.url;
  in.query = query;
  in.query_override = true;
  in.headers = &headers;
  in.payload_hash = payload_hash;
  in.amz_date = date;
  SigningArtifacts out = compute_signature(in, credentials, params);

  // The fragment, if any, stays last.
  const std::size_t fragment = std::min(request.url.find('#'), request.url.size());
  const std::size_t question = request.url.find('?');
  std::string suffix;
  if (question == std::string::npos || question > fragment) {
    suffix = "?";
  } else if (question + 1 != fragment) {
    suffix = "&";
  }
  suffix += added + "&X-Amz-Signature=" + out.signature;
  request.url.insert(fragment, suffix);
  return out;
}

}  // namespace es::aws
