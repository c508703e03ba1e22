#pragma once
/// The Runtime API loop: next invocation -> handler -> response or error, until the API goes away.

#include <functional>
#include <optional>
#include <string>

#include "aws/retry.h"
#include "core/result.h"
#include "lambda/runtime_api.h"

namespace es::lambda {

/// The handler as the loop sees it: the response body, or an Error whose code is the errorType
/// (empty: "InternalError") and whose message is the errorMessage.
using Handler = std::function<Result<std::string>(const InvocationRequest&)>;

/// Lambda's limit on a synchronous response (6 MB); a larger result is reported as an error.
inline constexpr std::size_t kMaxResponseBytes = 6 * 1024 * 1024;

struct LoopOptions {
  /// Stop after this many invocations (tests); std::nullopt: until the Runtime API fails.
  std::optional<int> max_invocations;
  /// Consecutive failed next-invocation calls tolerated before giving up (with backoff between).
  int max_next_failures = 5;
  aws::Sleeper sleeper = aws::real_sleeper();
};

/// The FunctionError posted for a handler Error.
[[nodiscard]] FunctionError to_function_error(const Error& error);

/// Runs invocations one after the other. Anything the handler throws is caught and posted as an
/// "InternalError" invocation error: one bad invocation never ends the process. Returns ok after
/// max_invocations, or the error that made the loop give up (the Runtime API unreachable).
[[nodiscard]] Status run_loop(RuntimeApiClient& api, const Handler& handler, const LoopOptions& options = {});

}  // namespace es::lambda
