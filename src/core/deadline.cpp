#include "core/deadline.h"

#include <fmt/format.h>

namespace es {
namespace {

thread_local bool in_cleanup = false;

}  // namespace

std::int64_t Deadline::limit_us() const {
  return in_cleanup ? end_us() : stop_us();
}

Deadline::CleanupScope::CleanupScope() : previous_(in_cleanup) {
  in_cleanup = true;
}

Deadline::CleanupScope::~CleanupScope() {
  in_cleanup = previous_;
}

Error deadline_exceeded(std::string_view what, std::string_view detail) {
  Error e;
  e.kind = ErrorKind::kTransport;
  e.code = std::string(kDeadlineExceeded);
  e.operation = std::string(what);
  e.message = detail.empty() ? std::string("stopped: the run's deadline came (the invocation's time is up)")
                             : fmt::format("stopped: the run's deadline came ({})", detail);
  e.retryable = false;
  return e;
}

}  // namespace es
