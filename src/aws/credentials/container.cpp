// The container source: ECS task role and EKS Pod Identity credentials
// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]).

#include <cstdint>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

constexpr std::size_t kMaxTokenFileBytes = 16 * 1024;
constexpr std::string_view kRelativeUri = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr std::string_view kFullUri = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr std::string_view kTokenVar = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
constexpr std::string_view kTokenFileVar = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
constexpr std::string_view kEcsHost = "http://169.254.170.2";

std::string without_query(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

class ContainerSource final : public CredentialSource {
 public:
  ContainerSource(EnvLookup env, HttpClientFactory http, HostResolver resolve)
      : env_(std::move(env)), http_(std::move(http)), resolve_(std::move(resolve)) {}
  [[nodiscard]] std::string_view name() const override { return "container"; }
  [[nodiscard]] Lookup fetch() override;

 private:
  /// The Authorization header value, "" when none is configured.
  [[nodiscard]] Result<std::string> authorization() const;
  EnvLookup env_;
  HttpClientFactory http_;
  HostResolver resolve_;
};

Result<std::string> ContainerSource::authorization() const {
  std::string token;
  std::string_view setting;
  // The file wins over the variable: EKS Pod Identity rotates the token in the file.
  if (auto path = env_value(env_, kTokenFileVar)) {
    setting = kTokenFileVar;
    auto text = internal::read_text_file(*path, kMaxTokenFileBytes);
    if (!text && text.error().kind == ErrorKind::kNotFound) {
      return Error::invalid_argument(std::string(kTokenFileVar), fmt::format("file '{}' not found", *path));
    }
    if (!text) return std::move(text).error().with_context(kOperation, kTokenFileVar);
    token = std::string(trim(*text));
    if (token.empty())
      return Error::invalid_argument(*path, "the container authorization token file is empty");
  } else if (auto value = env_value(env_, kTokenVar)) {
    setting = kTokenVar;
    token = std::move(*value);
  } else {
    return std::string();
  }
  if (has_control_char(token)) {
    return Error::invalid_argument(
        std::string(setting), "the container authorization token contains a line break or control character");
  }
  return token;
}

Lookup ContainerSource::fetch() {
  std::string url;
  if (auto relative = env_value(env_, kRelativeUri)) {
    if (relative->front() != '/') {
      return Lookup::failed(
          Error::invalid_argument(std::string(kRelativeUri), "expected a path starting with '/'"));
    }
    url = std::string(kEcsHost) + *relative;
  } else if (auto full = env_value(env_, kFullUri)) {
    const std::size_t sep = full->find("://");
    const std::size_t path =
        sep == std::string::npos ? std::string::npos : full->find_first_of("/?#", sep + 3);
    auto endpoint = parse_endpoint(std::string_view(*full).substr(0, path), kFullUri);
    if (!endpoint) return Lookup::failed(std::move(endpoint).error());
    if (endpoint->scheme == "http") {
      Status allowed = internal::check_container_host(endpoint->host, resolve_);
      if (!allowed.ok()) return Lookup::failed(std::move(allowed).error());
    }
    url = std::move(*full);
  } else {
    return Lookup::not_configured(fmt::format("{} and {} are not set", kRelativeUri, kFullUri));
  }
  const std::string shown = without_query(url);

  auto token = authorization();
  if (!token) return Lookup::failed(std::move(token).error());
  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers.emplace_back("Accept", "application/json");
  request.max_body_bytes = HttpRequest::kMaxCredentialsBody;
  if (!token->empty()) request.headers.emplace_back("Authorization", std::move(*token));

  auto http = http_ ? http_() : nullptr;
  if (!http) return Lookup::failed(Error::internal("no HTTP client for container credentials"));
  auto response = http->send(request);
  if (!response) {
    Error e = std::move(response).error();
    e.retryable = true;
    return Lookup::failed(std::move(e).with_context(kOperation, shown));
  }
  if (response->status != 200) {
    return Lookup::failed(http_failure(*response, "the container credentials endpoint", shown));
  }
  auto credentials = internal::parse_credentials_json(response->body, shown);
  if (!credentials) return Lookup::failed(std::move(credentials).error());
  credentials->source = "container";
  return Lookup::found(std::move(credentials).value());
}

}  // namespace

std::unique_ptr<CredentialSource> make_container_source(EnvLookup env, HttpClientFactory http,
                                                        HostResolver resolve) {
  return std::make_unique<ContainerSource>(std::move(env), std::move(http), std::move(resolve));
}

namespace internal {

bool is_allowed_container_address(std::string_view host) {
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    // 127.0.0.0/8, 169.254.170.2 (ECS), 169.254.170.23 (EKS Pod Identity)
    return (a >> 24) == 127 || a == 0xA9FEAA02u || a == 0xA9FEAA17u;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    in6_addr eks{};
    inet_pton(AF_INET6, "fd00:ec2::23", &eks);
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0 || std::memcmp(&v6, &eks, sizeof v6) == 0;
  }
  return false;
}

namespace {

bool is_address(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

Error not_allowed(std::string_view host, std::string_view why) {
  return Error::invalid_argument(
      std::string(kFullUri),
      fmt::format("plain http is allowed only to loopback, 169.254.170.2 (ECS) or 169.254.170.23 / "
                  "[fd00:ec2::23] (EKS Pod Identity), not to '{}'{}: use https",
                  host, why));
}

}  // namespace

Status check_container_host(std::string_view host, const HostResolver& resolve) {
  const std::string name(host);
  if (is_address(name)) {
    if (is_allowed_container_address(name)) return ok_status();
    return not_allowed(host, "");
  }
  // A name: what it resolves to decides, every address of it (the SDKs' rule: a name that also
  // resolves to another host could send the authorization token there).
  Result<std::vector<std::string>> addresses = resolve ? resolve(name) : resolve_host(name);
  if (!addresses.ok()) {
    return not_allowed(host, fmt::format(" (it does not resolve: {})", addresses.error().message));
  }
  if (addresses->empty()) return not_allowed(host, " (it resolves to no address)");
  for (const std::string& a : *addresses) {
    if (!is_allowed_container_address(a)) {
      return not_allowed(host, fmt::format(" (it resolves to {})", fmt::join(*addresses, ", ")));
    }
  }
  return ok_status();
}

Result<std::vector<std::string>> resolve_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) return Error::invalid_argument(host, gai_strerror(rc));
  std::vector<std::string> out;
  for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* at = nullptr;
    if (a->ai_family == AF_INET) {
      at = &reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr;  // NOLINT
    } else if (a->ai_family == AF_INET6) {
      at = &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr;  // NOLINT
    } else {
      continue;
    }
    if (inet_ntop(a->ai_family, at, text, sizeof text) != nullptr) out.emplace_back(text);
  }
  ::freeaddrinfo(list);
  return out;
}

}  // namespace internal
}  // namespace es::aws
