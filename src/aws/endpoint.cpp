#include "aws/endpoint.h"

#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "core/log.h"
#include "core/text.h"

namespace es::aws {
namespace {
using text::is_space;
using text::trim;

constexpr std::string_view kExpected = "expected http(s)://host[:port]";

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += to_lower(c);
  return out;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Registered names and IPv4 literals. '_' is not valid in DNS host names but docker-compose service
// names use it, and curl accepts it.
bool valid_host_name(std::string_view host) {
  if (host.empty() || host.front() == '-' || host.front() == '.') return false;
  for (char c : host) {
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

// IPv6 literal inside brackets: hex groups, ':' and an optional dotted IPv4 tail. Zone ids
// ("fe80::1%25eth0") are not supported.
bool valid_ipv6(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

int default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

std::optional<std::string> env_value(const EnvLookup& env, std::string_view name) {
  if (!env) return std::nullopt;
  auto value = env(name);
  if (!value) return std::nullopt;
  const std::string_view trimmed = trim(*value);
  if (trimmed.empty()) return std::nullopt;
  return std::string(trimmed);
}

// The suffix of AWS_ENDPOINT_URL_<SERVICE>: the service id upper-cased, spaces and dashes as '_'
// ("Service-specific endpoints" in the AWS SDKs and Tools Reference Guide). CloudWatch's signing
// name is "monitoring" but its service id is "CloudWatch".
std::string env_suffix(std::string_view service) {
  if (service == "monitoring") return "CLOUDWATCH";
  if (service == "states") return "SFN";  // Step Functions: signing name "states", service id "SFN"
  std::string out;
  for (char c : service) {
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else if (c == '-' || c == ' ') {
      out += '_';
    } else {
      out += c;
    }
  }
  return out;
}

bool valid_label_list(std::string_view s) {
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

std::string Endpoint::authority() const {
  std::string out;
  if (host.find(':') != std::string::npos) {
    out = fmt::format("[{}]", host);
  } else {
    out = host;
  }
  if (port != 0 && port != default_port(scheme)) fmt::format_to(std::back_inserter(out), ":{}", port);
  return out;
}

std::string Endpoint::base_url() const {
  return fmt::format("{}://{}", scheme, authority());
}

Result<Endpoint> parse_endpoint(std::string_view url, std::string_view setting) {
  const std::string_view text = trim(url);
  const auto fail = [&](std::string_view why) {
    std::string message = fmt::format("{}, got '{}'", kExpected, text);
    if (!why.empty()) fmt::format_to(std::back_inserter(message), " ({})", why);
    return Error::invalid_argument(std::string(setting), std::move(message));
  };

  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ') {
      return Error::invalid_argument(
          std::string(setting),
          fmt::format("{}: the value contains a space or control character", kExpected));
    }
  }
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) return fail("");
  Endpoint ep;
  ep.scheme = lower(text.substr(0, sep));
  if (ep.scheme != "http" && ep.scheme != "https") return fail("the scheme must be http or https");

  std::string_view rest = text.substr(sep + 3);
  if (rest.find('@') != std::string_view::npos) {
    // Never echo user information: it would put a password into logs.
    return Error::invalid_argument(
        std::string(setting),
        fmt::format("{}: user information (user:password@) is not supported in endpoint URLs", kExpected));
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return fail("a path, query or fragment is not supported");
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail("IPv6 address without closing ']'");
    host = rest.substr(1, close - 1);
    if (!valid_ipv6(host)) return fail("invalid IPv6 address");
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after the IPv6 address");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      has_port = true;
      if (port_text.find(':') != std::string_view::npos) {
        return fail("IPv6 addresses go in brackets, e.g. http://[::1]:8000");
      }
    }
    if (host.empty()) return fail("missing host");
    if (!valid_host_name(host)) return fail("invalid host name");
  }

  if (has_port) {
    int port = 0;
    const char* first = port_text.data();
    const char* last = first + port_text.size();
    const auto [ptr, ec] = std::from_chars(first, last, port);
    if (port_text.empty() || ec != std::errc() || ptr != last || port < 1 || port > 65535) {
      return fail("the port must be a number from 1 to 65535");
    }
    ep.port = port;
  }
  ep.host = lower(host);
  ep.custom = true;
  return ep;
}

std::string resolve_region(const EnvLookup& env) {
  if (auto region = env_value(env, "AWS_REGION")) return *region;
  if (auto region = env_value(env, "AWS_DEFAULT_REGION")) return *region;
  return "us-east-1";
}

Result<Endpoint> resolve_endpoint(std::string_view service, const EnvLookup& env, std::string_view region) {
  if (!valid_label_list(service)) {
    return Error::invalid_argument("service", fmt::format("invalid AWS service name '{}'", service));
  }

  // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true switches off every AWS_ENDPOINT_URL* setting (SDK
  // reference guide, "Service-specific endpoints"): handy to run against AWS from a shell set up
  // for the local servers.
  const auto ignore = env_value(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (!ignore || lower(*ignore) != "true") {
    const std::string specific = "AWS_ENDPOINT_URL_" + env_suffix(service);
    for (const std::string_view setting :
         {std::string_view(specific), std::string_view("AWS_ENDPOINT_URL")}) {
      if (auto url = env_value(env, setting)) {
        ES_ASSIGN_OR_RETURN(Endpoint ep, parse_endpoint(*url, setting));
        log::debug("aws.endpoint", {{"service", service}, {"setting", setting}, {"url", ep.base_url()}});
        return ep;
      }
    }
  }

  if (!valid_label_list(region)) {
    return Error::invalid_argument(
        "region",
        fmt::format("invalid AWS region '{}': expected a name like us-east-1 (set AWS_REGION)", region));
  }
  // China regions live in their own partition with its own DNS suffix.
  const std::string_view dns_suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  Endpoint ep;
  ep.scheme = "https";
  ep.host = fmt::format("{}.{}.{}", service, region, dns_suffix);
  ep.custom = false;
  return ep;
}

}  // namespace es::aws
