#include "aws/retry.h"

#include <algorithm>
#include <random>
#include <thread>

#include "aws/errors.h"

namespace es::aws {
namespace {

class StandardRetryPolicy final : public RetryPolicy {
 public:
  StandardRetryPolicy(StandardRetryOptions options, std::uint64_t seed, bool wait)
      : options_(options), seed_(seed), wait_(wait) {}

  bool should_retry(const Error& error, int attempt) const override {
    return error.retryable && attempt < options_.max_attempts;
  }

  // "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform wait in
  // [0, min(cap, base * 2^(attempt-1))]; throttling starts from a larger base, as the SDKs do.
  std::chrono::milliseconds delay(const Error& error, int attempt) const override {
    if (!wait_) return std::chrono::milliseconds(0);
    const bool throttled = error.kind == ErrorKind::kThrottled || is_throttling_code(error.code);
    const auto base = throttled ? options_.throttle_base_delay : options_.base_delay;
    const int exponent = std::clamp(attempt - 1, 0, 20);
    const auto ceiling = std::min<std::int64_t>(options_.max_delay.count(), base.count() << exponent);
    thread_local std::mt19937_64 rng(seed_ != 0 ? seed_ : std::random_device{}());
    std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(ceiling, 0));
    return std::chrono::milliseconds(pick(rng));
  }

  int max_attempts() const override { return options_.max_attempts; }

 private:
  StandardRetryOptions options_;
  std::uint64_t seed_;
  bool wait_;
};

}  // namespace

std::unique_ptr<RetryPolicy> make_standard_retry_policy(StandardRetryOptions options, std::uint64_t seed) {
  options.max_attempts = std::max(options.max_attempts, 1);
  return std::make_unique<StandardRetryPolicy>(options, seed, true);
}

std::unique_ptr<RetryPolicy> make_no_delay_retry_policy(int max_attempts) {
  StandardRetryOptions options;
  options.max_attempts = std::max(max_attempts, 1);
  return std::make_unique<StandardRetryPolicy>(options, 1, false);
}

Sleeper real_sleeper() {
  return [](std::chrono::milliseconds d) {
    if (d.count() > 0) std::this_thread::sleep_for(d);
  };
}

}  // namespace es::aws
