// The default chain: tries the sources in order, keeps the first that answers and refreshes its
// credentials ahead of expiry; concurrent callers share one fetch.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "aws/credentials.h"
#include "aws/credentials/source.h"
#include "core/log.h"
#include "core/time.h"

namespace es::aws {
namespace {

using internal::kOperation;

/// How long before Expiration the chain fetches new credentials.
constexpr std::int64_t kRefreshAheadUs = 5 * kMicrosPerMinute;
// Refetch at most this often when a source hands out credentials that are already inside the
// refresh window (otherwise every request would refetch).
constexpr std::int64_t kMinRefreshIntervalUs = 30 * kMicrosPerSecond;

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
  explicit DefaultChain(std::vector<std::unique_ptr<CredentialSource>> sources)
      : sources_(std::move(sources)) {}
  [[nodiscard]] Result<Credentials> get(std::int64_t now_us) override;

 private:
  /// Tries every source in order; sets `chosen` to the one that answered. Runs without the lock.
  Result<Credentials> resolve(std::int64_t now_us, CredentialSource*& chosen);
  /// Fetches again from the source that answered first. Runs without the lock.
  Result<Credentials> refresh(CredentialSource& source, std::int64_t now_us);
  static Status check_not_expired(const Credentials& c, std::int64_t now_us);
  void store(Credentials c, std::int64_t now_us);  // with the lock held

  const std::vector<std::unique_ptr<CredentialSource>> sources_;
  std::mutex mutex_;
  std::condition_variable fetch_done_;
  // Guarded by mutex_:
  bool fetching_ = false;
  std::uint64_t fetches_ = 0;  // completed fetches
  CredentialSource* chosen_ = nullptr;
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
  CredentialSource* source = chosen_;
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

Result<Credentials> DefaultChain::resolve(std::int64_t now_us, CredentialSource*& chosen) {
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

Result<Credentials> DefaultChain::refresh(CredentialSource& source, std::int64_t now_us) {
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

}  // namespace

std::shared_ptr<CredentialsProvider> make_default_credentials_chain(EnvLookup env, HttpClientFactory http,
                                                                    HostResolver resolve) {
  if (!env) env = process_environment();
  std::vector<std::unique_ptr<CredentialSource>> sources;
  sources.push_back(make_environment_source(env));
  sources.push_back(make_profile_source(env));
  sources.push_back(make_container_source(env, http, std::move(resolve)));
  sources.push_back(make_imds_source(env, std::move(http)));
  return make_credentials_chain(std::move(sources));
}

std::shared_ptr<CredentialsProvider> make_credentials_chain(
    std::vector<std::unique_ptr<CredentialSource>> sources) {
  return std::make_shared<DefaultChain>(std::move(sources));
}

}  // namespace es::aws
