#include "aws/credentials.h"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <simdjson.h>

#include "aws/credentials_internal.h"
#include "aws/endpoint.h"
#include "aws/ini.h"
#include "core/log.h"
#include "core/text.h"
#include "core/time.h"

namespace es::aws {
namespace {
using text::is_space;
using text::trim;
constexpr auto lower = [](std::string_view s) { return text::to_lower(s); };

using internal::kRefreshAheadUs;

constexpr std::string_view kOperation = "credentials";
constexpr std::size_t kMaxSharedFileBytes = 1 << 20;
constexpr std::size_t kMaxTokenFileBytes = 16 * 1024;
// Refetch at most this often when a source hands out credentials that are already inside the
// refresh window (otherwise every request would refetch).
constexpr std::int64_t kMinRefreshIntervalUs = 30 * kMicrosPerSecond;

constexpr std::string_view kRelativeUri = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr std::string_view kFullUri = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr std::string_view kTokenVar = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
constexpr std::string_view kTokenFileVar = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
constexpr std::string_view kEcsHost = "http://169.254.170.2";
constexpr std::string_view kImdsEndpointVar = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
constexpr std::string_view kImdsModeVar = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
constexpr std::string_view kImdsTokenTtlSeconds = "21600";

bool has_control_char(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

/// A set, non-blank environment variable, trimmed.
std::optional<std::string> env_value(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (!value) return std::nullopt;
  const std::string_view trimmed = trim(*value);
  if (trimmed.empty()) return std::nullopt;
  return std::string(trimmed);
}

std::string without_query(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

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

/// What one source of the chain answered.
struct Lookup {
  enum class Kind { kFound, kNotConfigured, kFailed };
  Kind kind = Kind::kNotConfigured;
  Credentials credentials;  ///< kFound
  std::string reason;       ///< kNotConfigured: why the source does not apply
  Error error;              ///< kFailed: configured but broken; stops the chain

  static Lookup found(Credentials c) {
    Lookup l;
    l.kind = Kind::kFound;
    l.credentials = std::move(c);
    return l;
  }
  static Lookup not_configured(std::string why) {
    Lookup l;
    l.reason = std::move(why);
    return l;
  }
  static Lookup failed(Error e) {
    Lookup l;
    l.kind = Kind::kFailed;
    l.error = std::move(e);
    return l;
  }
};

/// One link of the chain. fetch() reads its configuration each time it runs; the chain never runs
/// two fetches at once, so sources need no locking of their own.
class Source {
 public:
  virtual ~Source() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual Lookup fetch() = 0;
};

/// Error for a non-200 answer of a credentials endpoint. Nothing from the body is quoted, not even an
/// error code: it is not ours to show and could echo the request's Authorization header.
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

// ---- environment ---------------------------------------------------------------------------------

class EnvironmentSource final : public Source {
 public:
  explicit EnvironmentSource(EnvLookup env) : env_(std::move(env)) {}
  [[nodiscard]] std::string_view name() const override { return "environment"; }

  [[nodiscard]] Lookup fetch() override {
    auto id = env_value(env_, "AWS_ACCESS_KEY_ID");
    auto secret = env_value(env_, "AWS_SECRET_ACCESS_KEY");
    if (!id && !secret)
      return Lookup::not_configured("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
    if (!secret) {
      return Lookup::failed(
          Error::invalid_argument("AWS_SECRET_ACCESS_KEY",
                                  "not set while AWS_ACCESS_KEY_ID is: set both, or neither to use another "
                                  "credentials source"));
    }
    if (!id) {
      return Lookup::failed(Error::invalid_argument(
          "AWS_ACCESS_KEY_ID",
          "not set while AWS_SECRET_ACCESS_KEY is: set both, or neither to use another "
          "credentials source"));
    }
    Credentials c;
    c.access_key_id = std::move(*id);
    c.secret_access_key = std::move(*secret);
    c.session_token = env_value(env_, "AWS_SESSION_TOKEN").value_or("");
    c.source = "environment";
    return Lookup::found(std::move(c));
  }

 private:
  EnvLookup env_;
};

// ---- shared credentials and config files ---------------------------------------------------------

struct SharedFile {
  std::string path;            ///< empty: no path (HOME unset and no override)
  std::optional<IniFile> ini;  ///< none: the file does not exist
  [[nodiscard]] std::string describe() const {
    if (path.empty()) return "(no path: HOME is not set)";
    return ini ? path : path + " (not found)";
  }
};

class ProfileSource final : public Source {
 public:
  explicit ProfileSource(EnvLookup env) : env_(std::move(env)) {}
  [[nodiscard]] std::string_view name() const override { return "shared files"; }
  [[nodiscard]] Lookup fetch() override;

 private:
  Result<SharedFile> load(std::string_view setting, std::string_view default_name) const;
  EnvLookup env_;
};

Result<SharedFile> ProfileSource::load(std::string_view setting, std::string_view default_name) const {
  const auto home = env_value(env_, "HOME");
  SharedFile file;
  if (auto path = env_value(env_, setting)) {
    file.path = std::move(*path);
    if (home && file.path.starts_with("~/")) file.path = *home + file.path.substr(1);
  } else if (home) {
    file.path = fmt::format("{}/.aws/{}", *home, default_name);
  } else {
    return file;
  }
  auto text = internal::read_text_file(file.path, kMaxSharedFileBytes);
  if (!text) {
    if (text.error().kind == ErrorKind::kNotFound) return file;
    return std::move(text).error();
  }
  ES_ASSIGN_OR_RETURN(file.ini, parse_ini(*text, file.path));
  return file;
}

Lookup ProfileSource::fetch() {
  const auto chosen = env_value(env_, "AWS_PROFILE");
  const std::string profile = chosen.value_or("default");

  auto credentials_file = load("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (!credentials_file) return Lookup::failed(std::move(credentials_file).error());
  auto config_file = load("AWS_CONFIG_FILE", "config");
  if (!config_file) return Lookup::failed(std::move(config_file).error());

  // The credentials file names sections after the profile; the config file uses "[profile name]",
  // except for the default profile, which may also be "[default]".
  const IniFile::Section* in_credentials =
      credentials_file->ini ? credentials_file->ini->find(profile) : nullptr;
  const IniFile::Section* in_config = nullptr;
  if (config_file->ini) {
    in_config = config_file->ini->find("profile " + profile);
    if (in_config == nullptr && profile == "default") in_config = config_file->ini->find("default");
  }
  const std::string where = fmt::format("{} or {}", credentials_file->describe(), config_file->describe());

  if (in_credentials == nullptr && in_config == nullptr) {
    if (chosen) {
      return Lookup::failed(Error::invalid_argument(
          "AWS_PROFILE", fmt::format("profile '{}' not found in {}", profile, where)));
    }
    return Lookup::not_configured(fmt::format("no profile 'default' in {}", where));
  }

  // These make the AWS CLI and the SDKs take credentials from elsewhere (and before any static keys
  // of the same profile); using the static keys or a later source instead would silently run as
  // another identity.
  static constexpr std::pair<std::string_view, std::string_view> kUnsupported[] = {
      {"role_arn", "assume role"},
      {"credential_process", "external credential process"},
      {"sso_session", "IAM Identity Center (SSO)"},
      {"sso_start_url", "IAM Identity Center (SSO)"},
      {"web_identity_token_file", "web identity federation"},
  };
  const std::pair<const IniFile::Section*, const SharedFile*> sections[] = {
      {in_credentials, &credentials_file.value()}, {in_config, &config_file.value()}};
  for (const auto& [section, file] : sections) {
    if (section == nullptr) continue;
    for (const auto& [key, what] : kUnsupported) {
      if (section->find(key) == section->end()) continue;
      return Lookup::failed(Error::invalid_argument(
          file->path,
          fmt::format("profile '{}' uses {} ({}), which EagleSense does not support: give the "
                      "profile aws_access_key_id and aws_secret_access_key, set AWS_ACCESS_KEY_ID "
                      "and AWS_SECRET_ACCESS_KEY, or run with a container or instance role",
                      profile, key, what)));
    }
  }

  for (const auto& [section, file] : sections) {
    if (section == nullptr) continue;
    const auto get = [section = section](std::string_view key) -> std::optional<std::string> {
      const auto it = section->find(key);
      if (it == section->end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
    auto id = get("aws_access_key_id");
    auto secret = get("aws_secret_access_key");
    if (!id && !secret) continue;
    if (!id || !secret) {
      return Lookup::failed(Error::invalid_argument(
          file->path, fmt::format("profile '{}' has {} but no {}", profile,
                                  id ? "aws_access_key_id" : "aws_secret_access_key",
                                  id ? "aws_secret_access_key" : "aws_access_key_id")));
    }
    Credentials c;
    c.access_key_id = std::move(*id);
    c.secret_access_key = std::move(*secret);
    c.session_token = get("aws_session_token").value_or("");
    c.source = "profile " + profile;
    return Lookup::found(std::move(c));
  }
  return Lookup::not_configured(
      fmt::format("profile '{}' in {} has no aws_access_key_id/aws_secret_access_key", profile, where));
}

// ---- container credentials (ECS task role, EKS Pod Identity) -------------------------------------

class ContainerSource final : public Source {
 public:
  ContainerSource(EnvLookup env, HttpClientFactory http) : env_(std::move(env)), http_(std::move(http)) {}
  [[nodiscard]] std::string_view name() const override { return "container"; }
  [[nodiscard]] Lookup fetch() override;

 private:
  /// The Authorization header value, "" when none is configured.
  [[nodiscard]] Result<std::string> authorization() const;
  EnvLookup env_;
  HttpClientFactory http_;
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
    if (endpoint->scheme == "http" && !internal::is_allowed_container_host(endpoint->host)) {
      return Lookup::failed(Error::invalid_argument(
          std::string(kFullUri),
          fmt::format("plain http is allowed only to loopback, 169.254.170.2 (ECS) or 169.254.170.23 / "
                      "[fd00:ec2::23] (EKS Pod Identity), not to '{}': use https",
                      endpoint->host)));
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

// ---- EC2 instance metadata service, version 2 only -----------------------------------------------

class ImdsSource final : public Source {
 public:
  ImdsSource(EnvLookup env, HttpClientFactory http) : env_(std::move(env)), http_(std::move(http)) {}
  [[nodiscard]] std::string_view name() const override { return "EC2 instance metadata"; }
  [[nodiscard]] Lookup fetch() override;

 private:
  EnvLookup env_;
  HttpClientFactory http_;
};

bool valid_role_name(std::string_view role) {
  // IAM role names: letters, digits and "+=,.@_-", at most 64 characters.
  if (role.empty() || role.size() > 64) return false;
  for (char c : role) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("+=,.@_-", c) != nullptr;
    if (!ok) return false;
  }
  return true;
}

Lookup ImdsSource::fetch() {
  if (auto disabled = env_value(env_, "AWS_EC2_METADATA_DISABLED"); disabled && lower(*disabled) == "true") {
    return Lookup::not_configured("disabled by AWS_EC2_METADATA_DISABLED");
  }
  std::string base = "http://169.254.169.254";
  if (auto configured = env_value(env_, kImdsEndpointVar)) {
    auto endpoint = parse_endpoint(*configured, kImdsEndpointVar);
    if (!endpoint) return Lookup::failed(std::move(endpoint).error());
    base = endpoint->base_url();
  } else if (auto mode = env_value(env_, kImdsModeVar)) {
    const std::string m = lower(*mode);
    if (m == "ipv6") {
      base = "http://[fd00:ec2::254]";
    } else if (m != "ipv4") {
      return Lookup::failed(Error::invalid_argument(std::string(kImdsModeVar),
                                                    fmt::format("expected IPv4 or IPv6, got '{}'", *mode)));
    }
  }

  auto http = http_ ? http_() : nullptr;
  if (!http) return Lookup::failed(Error::internal("no HTTP client for the instance metadata service"));

  // IMDSv2: a session token first (PUT), then every GET carries it. IMDSv1 is not used.
  HttpRequest put;
  put.method = "PUT";
  put.url = base + "/latest/api/token";
  put.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", std::string(kImdsTokenTtlSeconds));
  auto token_response = http->send(put);
  if (!token_response) {
    // Nothing listens there: not running on EC2 (or the hop limit is too low for a container).
    return Lookup::not_configured(
        fmt::format("no instance metadata service at {} ({})", base, token_response.error().message));
  }
  if (token_response->status != 200) {
    return Lookup::failed(
        http_failure(*token_response, "the IMDSv2 token request (PUT /latest/api/token)", base));
  }
  const std::string token(trim(token_response->body));
  if (token.empty() || has_control_char(token)) {
    return Lookup::failed(
        Error::invalid_data(base, "the instance metadata service returned an unusable token"));
  }

  const std::string roles_url = base + "/latest/meta-data/iam/security-credentials/";
  const auto get = [&](const std::string& url) {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    return http->send(request);
  };
  auto roles = get(roles_url);
  if (!roles) {
    Error e = std::move(roles).error();
    e.retryable = true;
    return Lookup::failed(std::move(e).with_context(kOperation, roles_url));
  }
  if (roles->status == 404) {
    return Lookup::not_configured("the EC2 instance has no IAM role (instance profile) attached");
  }
  if (roles->status != 200)
    return Lookup::failed(http_failure(*roles, "the instance metadata service", roles_url));
  const std::string_view body = roles->body;
  const std::string_view role = trim(body.substr(0, body.find('\n')));
  if (role.empty())
    return Lookup::not_configured("the EC2 instance has no IAM role (instance profile) attached");
  if (!valid_role_name(role)) {
    return Lookup::failed(
        Error::invalid_data(roles_url, "the instance metadata service returned an invalid role name"));
  }

  const std::string credentials_url = roles_url + std::string(role);
  auto response = get(credentials_url);
  if (!response) {
    Error e = std::move(response).error();
    e.retryable = true;
    return Lookup::failed(std::move(e).with_context(kOperation, credentials_url));
  }
  if (response->status != 200) {
    return Lookup::failed(http_failure(*response, "the instance metadata service", credentials_url));
  }
  auto credentials = internal::parse_credentials_json(response->body, credentials_url);
  if (!credentials) return Lookup::failed(std::move(credentials).error());
  credentials->source = "imds";
  return Lookup::found(std::move(credentials).value());
}

// ---- the chain -----------------------------------------------------------------------------------

/// "2026-11-29T10:15:42Z": core's format_iso8601_us without the fraction (floored to the second).
std::string format_time(std::int64_t us) {
  std::string text = format_iso8601_us(us);
  const std::size_t dot = text.rfind('.');
  if (dot != std::string::npos) text.erase(dot, text.size() - 1 - dot);  // keeps the 'Z'
  return text;
}

void log_credentials(std::string_view event, const Credentials& c, std::int64_t now_us) {
  if (!log::enabled(log::Level::kDebug)) return;
  const std::string masked = mask_access_key_id(c.access_key_id);
  if (c.expiration_us) {
    const std::int64_t left = (*c.expiration_us - now_us) / kMicrosPerSecond;
    const std::string expires = format_time(*c.expiration_us);
    log::debug(event, {{"source", c.source},
                       {"access_key_id", masked},
                       {"session", !c.session_token.empty()},
                       {"expires", expires},
                       {"expires_in_s", left}});
  } else {
    log::debug(event,
               {{"source", c.source}, {"access_key_id", masked}, {"session", !c.session_token.empty()}});
  }
}

class DefaultChain final : public CredentialsProvider {
 public:
  explicit DefaultChain(std::vector<std::unique_ptr<Source>> sources) : sources_(std::move(sources)) {}
  [[nodiscard]] Result<Credentials> get(std::int64_t now_us) override;

 private:
  /// Tries every source in order; sets `chosen` to the one that answered. Runs without the lock.
  Result<Credentials> resolve(std::int64_t now_us, Source*& chosen);
  /// Fetches again from the source that answered first. Runs without the lock.
  Result<Credentials> refresh(Source& source, std::int64_t now_us);
  static Status check_not_expired(const Credentials& c, std::int64_t now_us);
  void store(Credentials c, std::int64_t now_us);  // with the lock held

  const std::vector<std::unique_ptr<Source>> sources_;
  std::mutex mutex_;
  std::condition_variable fetch_done_;
  // Guarded by mutex_:
  bool fetching_ = false;
  std::uint64_t fetches_ = 0;  // completed fetches
  Source* chosen_ = nullptr;
  std::optional<Credentials> cached_;
  std::int64_t refresh_at_us_ = 0;  // meaningful when cached_ has an expiration
  std::optional<Error> last_error_;
};

bool usable(const Credentials& c, std::int64_t now_us) {
  return !c.expiration_us || now_us < *c.expiration_us;
}

Status DefaultChain::check_not_expired(const Credentials& c, std::int64_t now_us) {
  if (usable(c, now_us)) return ok_status();
  Error e = Error::invalid_data(
      c.source, fmt::format("the credentials handed out expired at {}", format_time(*c.expiration_us)));
  e.retryable = true;
  return e;
}

void DefaultChain::store(Credentials c, std::int64_t now_us) {
  if (c.expiration_us) {
    refresh_at_us_ = *c.expiration_us - kRefreshAheadUs;
    if (refresh_at_us_ <= now_us) refresh_at_us_ = std::min(now_us + kMinRefreshIntervalUs, *c.expiration_us);
  }
  cached_ = std::move(c);
  last_error_.reset();
}

Result<Credentials> DefaultChain::get(std::int64_t now_us) {
  std::unique_lock lock(mutex_);
  const auto fresh = [&] { return cached_ && (!cached_->expiration_us || now_us < refresh_at_us_); };
  while (fetching_) {
    // Someone else is fetching: credentials that still work are good enough meanwhile.
    if (cached_ && usable(*cached_, now_us)) return *cached_;
    const std::uint64_t seen = fetches_;
    fetch_done_.wait(lock, [&] { return fetches_ != seen; });
    // Take what that fetch produced instead of starting another one right away.
    if (cached_ && usable(*cached_, now_us)) return *cached_;
    if (last_error_) return *last_error_;
  }
  if (fresh()) return *cached_;

  fetching_ = true;
  Source* source = chosen_;
  lock.unlock();
  Result<Credentials> fetched = Error::internal("credentials fetch did not run");
  try {
    fetched = source != nullptr ? refresh(*source, now_us) : resolve(now_us, source);
  } catch (...) {
    lock.lock();
    fetching_ = false;
    ++fetches_;
    fetch_done_.notify_all();
    throw;
  }
  lock.lock();
  fetching_ = false;
  ++fetches_;
  fetch_done_.notify_all();

  if (fetched) {
    chosen_ = source;
    store(fetched.value(), now_us);
    return fetched;
  }
  if (cached_ && usable(*cached_, now_us)) {
    // Static stability: keep using what still works, and try again a little later rather than on
    // every call while the endpoint is down.
    if (cached_->expiration_us) {
      refresh_at_us_ = std::min(now_us + kMinRefreshIntervalUs, *cached_->expiration_us);
    }
    log::warn("aws.credentials.refresh_failed",
              {{"source", cached_->source}, {"error", fetched.error().to_string()}});
    return *cached_;
  }
  last_error_ = fetched.error();
  return fetched;
}

Result<Credentials> DefaultChain::resolve(std::int64_t now_us, Source*& chosen) {
  std::string tried;
  int n = 0;
  for (const auto& source : sources_) {
    Lookup lookup = source->fetch();
    ++n;
    switch (lookup.kind) {
      case Lookup::Kind::kFound: {
        ES_TRY(check_not_expired(lookup.credentials, now_us));
        log_credentials("aws.credentials.resolved", lookup.credentials, now_us);
        chosen = source.get();
        return std::move(lookup.credentials);
      }
      case Lookup::Kind::kNotConfigured:
        log::debug("aws.credentials.skipped", {{"source", source->name()}, {"reason", lookup.reason}});
        fmt::format_to(std::back_inserter(tried), "{}{}) {}: {}", n == 1 ? "" : "; ", n, source->name(),
                       lookup.reason);
        break;
      case Lookup::Kind::kFailed: {
        const std::string why = lookup.error.to_string();
        log::debug("aws.credentials.failed", {{"source", source->name()}, {"error", why}});
        fmt::format_to(std::back_inserter(tried), "{}{}) {}: {}", n == 1 ? "" : "; ", n, source->name(), why);
        Error e;
        e.kind = lookup.error.kind;
        e.retryable = lookup.error.retryable;
        e.operation = std::string(kOperation);
        e.message = fmt::format(
            "no AWS credentials: {} is configured but failed, so later sources were not "
            "tried; tried {}",
            source->name(), tried);
        return e;
      }
    }
  }
  Error e = Error::invalid_argument(
      "", fmt::format("no AWS credentials found; tried {}. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                      "AWS_PROFILE, or run with a container or instance role",
                      tried));
  e.operation = std::string(kOperation);
  return e;
}

Result<Credentials> DefaultChain::refresh(Source& source, std::int64_t now_us) {
  Lookup lookup = source.fetch();
  switch (lookup.kind) {
    case Lookup::Kind::kFound:
      ES_TRY(check_not_expired(lookup.credentials, now_us));
      log_credentials("aws.credentials.refreshed", lookup.credentials, now_us);
      return std::move(lookup.credentials);
    case Lookup::Kind::kNotConfigured: {
      Error e =
          Error::invalid_argument("", fmt::format("cannot refresh AWS credentials: {} no longer applies: {}",
                                                  source.name(), lookup.reason));
      e.operation = std::string(kOperation);
      return e;
    }
    case Lookup::Kind::kFailed:
      break;
  }
  return std::move(lookup.error).with_context(kOperation, source.name());
}

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : credentials_(with_source(std::move(c))) {}
  [[nodiscard]] Result<Credentials> get(std::int64_t /*now_us*/) override { return credentials_; }

 private:
  static Credentials with_source(Credentials c) {
    if (c.source.empty()) c.source = "static";
    return c;
  }
  const Credentials credentials_;
};

}  // namespace

// ---- internal helpers ----------------------------------------------------------------------------

namespace internal {

Result<Credentials> parse_credentials_json(std::string_view body, std::string_view what) {
  const std::string resource(what);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (const auto err = parser.parse(body.data(), body.size()).get(root); err != simdjson::SUCCESS) {
    return Error::invalid_data(
        resource, fmt::format("credentials response is not valid JSON ({})", simdjson::error_message(err)));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Error::invalid_data(resource, "credentials response is not a JSON object");
  }
  std::string_view code;
  if (object["Code"].get_string().get(code) == simdjson::SUCCESS && code != "Success") {
    Error e = Error::invalid_data(resource, "credentials response reports a failure");
    e.code = safe_code(code);
    e.retryable = true;
    return e;
  }
  const auto field = [&](std::string_view key, bool required, std::string& out) -> Status {
    std::string_view value;
    const auto err = object[key].get_string().get(value);
    if (err == simdjson::NO_SUCH_FIELD && !required) return ok_status();
    if (err != simdjson::SUCCESS) {
      return Error::invalid_data(resource,
                                 fmt::format("credentials response lacks the string field {}", key));
    }
    if (value.empty() && required) {
      return Error::invalid_data(resource, fmt::format("credentials response has an empty {}", key));
    }
    out = std::string(value);
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

bool is_allowed_container_host(std::string_view host) {
  if (host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23") return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;  // 127.0.0.0/8
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    in6_addr eks{};
    inet_pton(AF_INET6, "fd00:ec2::23", &eks);
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0 || std::memcmp(&v6, &eks, sizeof v6) == 0;
  }
  return false;
}

}  // namespace internal

// ---- public API ----------------------------------------------------------------------------------

std::string mask_access_key_id(std::string_view access_key_id) {
  if (access_key_id.size() < 12) return "****";
  return fmt::format("{}****{}", access_key_id.substr(0, 4), access_key_id.substr(access_key_id.size() - 4));
}

std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials c) {
  return std::make_shared<StaticProvider>(std::move(c));
}

std::shared_ptr<CredentialsProvider> make_default_credentials_chain(EnvLookup env, HttpClientFactory http) {
  if (!env) env = process_environment();
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<EnvironmentSource>(env));
  sources.push_back(std::make_unique<ProfileSource>(env));
  sources.push_back(std::make_unique<ContainerSource>(env, http));
  sources.push_back(std::make_unique<ImdsSource>(env, std::move(http)));
  return std::make_shared<DefaultChain>(std::move(sources));
}

}  // namespace es::aws
