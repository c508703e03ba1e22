#include "aws/caller.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "aws/errors.h"
#include "core/log.h"

namespace es::aws {

AwsCaller::AwsCaller(std::shared_ptr<const ServiceContext> context, std::unique_ptr<HttpClient> http)
    : context_(std::move(context)), http_(std::move(http)) {}

Result<HttpResponse> AwsCaller::call(std::string_view operation, std::string_view resource,
                                     const HttpRequest& request,
                                     const ResponseClassifier& classify_response) {
  const ServiceContext& ctx = *context_;
  const Deadline* deadline = ctx.deadline.get();
  std::string last_error;  // what the deadline error quotes
  for (int attempt = 1;; ++attempt) {
    const std::int64_t now_us = ctx.clock();
    if (deadline != nullptr && deadline->passed(now_us)) {
      return deadline_exceeded(operation, last_error).with_context(operation, resource);
    }
    auto credentials = ctx.credentials->get(now_us);
    if (!credentials.ok()) return std::move(credentials).error().with_context(operation, resource);

    HttpRequest signed_request = request;  // each attempt is signed anew (fresh date, fresh credentials)
    sign_request(signed_request, *credentials, ctx.signing, now_us);
    // The request ends by the deadline, whatever the client's own timeout.
    if (const std::int64_t limit = deadline != nullptr ? deadline->limit_us() : 0; limit != 0) {
      // Rounded up: a timeout ending before the limit would be taken for an ordinary one and retried.
      signed_request.timeout =
          std::chrono::milliseconds(std::max<std::int64_t>((limit - now_us + 999) / 1000, 1));
    }

    ++stats_.requests;
    if (attempt > 1) ++stats_.retries;
    Result<HttpResponse> sent = http_->send(signed_request);

    Error error;
    if (sent.ok()) {
      HttpResponse& response = sent.value();
      std::optional<Error> failure = classify_response(response);
      if (!failure) {
        log::debug("aws.request", {{"operation", operation},
                                   {"resource", resource},
                                   {"status", response.status},
                                   {"attempt", attempt},
                                   {"bytes", response.body.size()}});
        return std::move(sent).value();
      }
      error = std::move(*failure);
      http_->recycle_body(std::move(response.body));  // the error is parsed already
    } else {
      error = std::move(sent).error();
      classify(error);
    }
    static_cast<void>(std::move(error).with_context(operation, resource));
    if (error.kind == ErrorKind::kThrottled) ++stats_.throttles;
    // A request cut short by the deadline (its timeout ended there) is the deadline's error.
    if (deadline != nullptr && error.kind == ErrorKind::kTransport && deadline->passed(ctx.clock())) {
      return deadline_exceeded(operation, error.to_string()).with_context(operation, resource);
    }

    if (!ctx.retry->should_retry(error, attempt)) {
      if (error.retryable && attempt > 1) {
        error.message += fmt::format(" (gave up after {} attempts)", attempt);
      }
      log::debug("aws.request_failed", {{"operation", operation},
                                        {"resource", resource},
                                        {"status", error.http_status},
                                        {"code", error.code},
                                        {"attempt", attempt}});
      return error;
    }
    const auto wait = ctx.retry->delay(error, attempt);
    if (const std::int64_t limit = deadline != nullptr ? deadline->limit_us() : 0;
        limit != 0 &&
        ctx.clock() + std::chrono::duration_cast<std::chrono::microseconds>(wait).count() > limit) {
      return deadline_exceeded(operation, fmt::format("no time left to retry after {} attempts: {}", attempt,
                                                      error.to_string()))
          .with_context(operation, resource);
    }
    last_error = error.to_string();
    log::info("aws.retry", {{"operation", operation},
                            {"resource", resource},
                            {"status", error.http_status},
                            {"code", error.code},
                            {"attempt", attempt},
                            {"wait_ms", static_cast<std::int64_t>(wait.count())}});
    ctx.sleeper(wait);
  }
}

}  // namespace es::aws
