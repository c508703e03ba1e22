#pragma once
/// The time by which a run must stop: a Lambda invocation's deadline. Every AWS call of the run sees
/// it (aws::ServiceContext::deadline): a call does not start, and a retry does not wait, past it, and
/// a call's HTTP timeout ends at it. An hour whose calls meet it fails with DeadlineExceeded and is
/// left as a stopped hour is (no manifest; a later run or the scale-out state machine repeats it).
///
/// Two instants: work stops at stop_us (the deadline less a margin); the clean-up that follows a stop
/// (aborting multipart uploads, giving back a lease, handing the hour off, publishing metrics) may go
/// on until end_us, on threads inside a CleanupScope. Thread-safe: set by the invocation's thread,
/// read by every worker.

#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace es {

/// Error::code of a call refused, or a retry given up, because the run's deadline came.
inline constexpr std::string_view kDeadlineExceeded = "DeadlineExceeded";

class Deadline {
 public:
  /// From now on work stops at stop_us, clean-up at end_us (microseconds since the epoch, the clock
  /// of the callers; end_us >= stop_us). 0, 0: no deadline.
  void set(std::int64_t stop_us, std::int64_t end_us) {
    stop_us_.store(stop_us, std::memory_order_relaxed);
    end_us_.store(end_us, std::memory_order_relaxed);
  }
  void clear() { set(0, 0); }

  [[nodiscard]] std::int64_t stop_us() const { return stop_us_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t end_us() const { return end_us_.load(std::memory_order_relaxed); }

  /// The instant a call made now on this thread must end by: end_us inside a CleanupScope, else
  /// stop_us. 0: none.
  [[nodiscard]] std::int64_t limit_us() const;

  /// Whether a call made at now_us on this thread must not start.
  [[nodiscard]] bool passed(std::int64_t now_us) const {
    const std::int64_t limit = limit_us();
    return limit != 0 && now_us >= limit;
  }

  /// While one lives, this thread's calls are clean-up: they may run until end_us.
  class CleanupScope {
   public:
    CleanupScope();
    ~CleanupScope();
    CleanupScope(const CleanupScope&) = delete;
    CleanupScope& operator=(const CleanupScope&) = delete;

   private:
    bool previous_;
  };

 private:
  std::atomic<std::int64_t> stop_us_{0};
  std::atomic<std::int64_t> end_us_{0};
};

/// The error of what (an operation, e.g. "S3.UploadPart") not done because the deadline came:
/// kTransport, code kDeadlineExceeded, not retryable; detail says what happened (the last error).
[[nodiscard]] Error deadline_exceeded(std::string_view what, std::string_view detail);

/// Whether e is deadline_exceeded()'s.
[[nodiscard]] inline bool is_deadline_exceeded(const Error& e) {
  return e.code == kDeadlineExceeded;
}

}  // namespace es
