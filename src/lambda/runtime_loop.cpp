#include "lambda/runtime_loop.h"

#include <cstdlib>
#include <exception>

#include <fmt/format.h>

#include "core/log.h"

namespace es::lambda {

FunctionError to_function_error(const Error& error) {
  FunctionError f;
  f.type = error.code.empty() ? "InternalError" : error.code;
  f.message = error.message.empty() ? error.to_string() : error.message;
  return f;
}

namespace {

void post_error(RuntimeApiClient& api, const std::string& request_id, const FunctionError& error) {
  auto posted = api.post_error(request_id, error);
  if (!posted.ok()) {
    log::error("lambda.post_error_failed",
               {{"request_id", request_id}, {"error", posted.error().to_string()}});
  }
}

void respond(RuntimeApiClient& api, const InvocationRequest& request, Result<std::string> result) {
  if (!result.ok()) {
    const FunctionError error = to_function_error(result.error());
    log::warn("lambda.invocation_error", {{"request_id", request.request_id}, {"error_type", error.type}});
    post_error(api, request.request_id, error);
    return;
  }
  if (result->size() > kMaxResponseBytes) {
    post_error(
        api, request.request_id,
        {"ResponseTooLarge", fmt::format("the run summary is {} bytes, more than Lambda's {} byte limit; "
                                         "the export itself completed (see the log)",
                                         result->size(), kMaxResponseBytes)});
    return;
  }
  auto posted = api.post_response(request.request_id, *result);
  if (!posted.ok()) {
    log::error("lambda.post_response_failed",
               {{"request_id", request.request_id}, {"error", posted.error().to_string()}});
  } else {
    log::info("lambda.invocation_done", {{"request_id", request.request_id}});
  }
}

}  // namespace

Status run_loop(RuntimeApiClient& api, const Handler& handler, const LoopOptions& options) {
  int invocations = 0;
  int next_failures = 0;
  while (!options.max_invocations || invocations < *options.max_invocations) {
    auto next = api.next();
    if (!next.ok()) {
      ++next_failures;
      log::error("lambda.next_failed", {{"error", next.error().to_string()}, {"attempt", next_failures}});
      if (next_failures >= options.max_next_failures) return std::move(next).error();
      options.sleeper(std::chrono::milliseconds(100 << std::min(next_failures, 5)));
      continue;
    }
    next_failures = 0;
    ++invocations;
    const InvocationRequest& request = *next;
    // The X-Ray trace header of this invocation, where the SDKs look for it.
    if (!request.trace_id.empty()) {
      setenv("_X_AMZN_TRACE_ID", request.trace_id.c_str(), 1);
    } else {
      unsetenv("_X_AMZN_TRACE_ID");
    }
    Result<std::string> result = Error::internal("handler did not run");
    // The one catch-all of the Lambda program: an exception becomes this invocation's error.
    try {
      result = handler(request);
    } catch (const std::exception& e) {
      Error error = Error::internal(fmt::format("unexpected exception: {}", e.what()));
      error.code = "InternalError";
      result = std::move(error);
    } catch (...) {
      Error error = Error::internal("unexpected exception of unknown type");
      error.code = "InternalError";
      result = std::move(error);
    }
    respond(api, request, std::move(result));
  }
  return ok_status();
}

}  // namespace es::lambda
