#pragma once
/// AwsCaller: sign, send, classify, retry. The one place where every AWS request goes through,
/// shared by the DynamoDB, S3 and CloudWatch clients.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/http.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/deadline.h"

namespace es::aws {

/// What a client needs besides its HTTP transport. Shared (read-only) between worker threads.
struct ServiceContext {
  Endpoint endpoint;
  SigningParams signing;
  std::shared_ptr<CredentialsProvider> credentials;
  std::shared_ptr<const RetryPolicy> retry;
  Sleeper sleeper;
  /// The wall clock, microseconds since the epoch (core/time.h): signing time and credentials expiry.
  std::function<std::int64_t()> clock = [] { return system_now_us(); };
  /// The run's deadline (core/deadline.h), as clock tells time: no call starts, and no retry waits,
  /// past it, and each request's HTTP timeout ends at it. Null: none.
  std::shared_ptr<const Deadline> deadline;
};

/// Counters a caller accumulates (for metrics and the run summary).
struct CallStats {
  std::uint64_t requests = 0;   ///< HTTP requests sent, retries included
  std::uint64_t retries = 0;    ///< of which retries
  std::uint64_t throttles = 0;  ///< responses with a throttling code

  CallStats& operator+=(const CallStats& o) {
    requests += o.requests;
    retries += o.retries;
    throttles += o.throttles;
    return *this;
  }
};

/// Returns std::nullopt when the response is a success, else the Error it represents
/// (already classified). Service clients pass dynamodb_error/s3_error-based classifiers.
using ResponseClassifier = std::function<std::optional<Error>(const HttpResponse&)>;

class AwsCaller {
 public:
  AwsCaller(std::shared_ptr<const ServiceContext> context, std::unique_ptr<HttpClient> http);

  /// Signs a fresh copy of request on every attempt (new date, refreshed credentials), sends it,
  /// and retries per the policy. operation ("DynamoDB.Scan") and resource (table, "bucket/key")
  /// go into every Error. Returns the successful response or the last error; with the context's
  /// deadline passed (before an attempt, or a retry's wait that would end after it), an Error with
  /// code kDeadlineExceeded that quotes the last error.
  [[nodiscard]] Result<HttpResponse> call(std::string_view operation, std::string_view resource,
                                          const HttpRequest& request, const ResponseClassifier& classify);

  /// Hands a spent response body back to the transport, to receive a later response into.
  void recycle_body(std::string body) { http_->recycle_body(std::move(body)); }

  [[nodiscard]] const CallStats& stats() const { return stats_; }
  [[nodiscard]] const ServiceContext& context() const { return *context_; }

 private:
  std::shared_ptr<const ServiceContext> context_;
  std::unique_ptr<HttpClient> http_;
  CallStats stats_;
};

}  // namespace es::aws
