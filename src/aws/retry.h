#pragma once
/// Retry decisions as an injectable policy (the SDKs' "standard" mode): exponential backoff with
/// full jitter, capped, bounded attempts. Tests pass a zero-delay policy.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/result.h"

namespace es::aws {

class RetryPolicy {
 public:
  virtual ~RetryPolicy() = default;
  /// attempt is 1 for the first try. True when error is retryable and attempts remain.
  [[nodiscard]] virtual bool should_retry(const Error& error, int attempt) const = 0;
  /// How long to wait before attempt + 1.
  [[nodiscard]] virtual std::chrono::milliseconds delay(const Error& error, int attempt) const = 0;
  [[nodiscard]] virtual int max_attempts() const = 0;
};

struct StandardRetryOptions {
  int max_attempts = 5;                                ///< AWS_MAX_ATTEMPTS; total tries including the first
  std::chrono::milliseconds base_delay{50};            ///< first backoff ceiling
  std::chrono::milliseconds throttle_base_delay{500};  ///< backoff ceiling base after throttling
  std::chrono::milliseconds max_delay{20'000};         ///< cap on any single wait
};

/// Standard mode. Retries errors whose Error::retryable is set (see classify_* in aws/errors.h).
std::unique_ptr<RetryPolicy> make_standard_retry_policy(StandardRetryOptions options = {},
                                                        std::uint64_t seed = 0);
/// Same decisions, no waiting: for tests.
std::unique_ptr<RetryPolicy> make_no_delay_retry_policy(int max_attempts);

/// Sleeps; injectable so tests do not wait.
using Sleeper = std::function<void(std::chrono::milliseconds)>;
Sleeper real_sleeper();

}  // namespace es::aws
