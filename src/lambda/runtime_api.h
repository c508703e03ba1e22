#pragma once
/// A client of the Lambda Runtime API (version 2018-06-01) at AWS_LAMBDA_RUNTIME_API:
/// GET  /2018-06-01/runtime/invocation/next
/// POST /2018-06-01/runtime/invocation/{id}/response
/// POST /2018-06-01/runtime/invocation/{id}/error
/// POST /2018-06-01/runtime/init/error
/// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html. Plain HTTP on the local
/// endpoint, no signing.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "aws/http.h"
#include "core/result.h"

namespace es::lambda {

/// One invocation, as the next-invocation call hands it over.
struct InvocationRequest {
  std::string request_id;        ///< Lambda-Runtime-Aws-Request-Id
  std::int64_t deadline_ms = 0;  ///< Lambda-Runtime-Deadline-Ms: epoch milliseconds; 0 when absent
  std::string function_arn;      ///< Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;          ///< Lambda-Runtime-Trace-Id (X-Ray)
  std::string payload;           ///< the event, JSON text
};

/// What an invocation or init error reports: {"errorMessage":..,"errorType":..,"stackTrace":[]}.
struct FunctionError {
  std::string type;     ///< errorType, also sent as Lambda-Runtime-Function-Error-Type
  std::string message;  ///< errorMessage
};

/// The JSON body of an error post.
[[nodiscard]] std::string render_function_error(const FunctionError& error);

/// The HttpOptions the Runtime API needs: no overall timeout and no low-speed limit, since the
/// next-invocation call waits (and the environment may be frozen) until there is an event.
[[nodiscard]] aws::HttpOptions runtime_api_http_options();

class RuntimeApiClient {
 public:
  /// endpoint is AWS_LAMBDA_RUNTIME_API: "host:port". Error kInvalidArgument when empty or when it
  /// holds a scheme, a path or a space.
  [[nodiscard]] static Result<RuntimeApiClient> make(std::string_view endpoint,
                                                     std::unique_ptr<aws::HttpClient> http);

  /// Waits for the next invocation. Error when the API cannot be reached or answers without a
  /// request id.
  [[nodiscard]] Result<InvocationRequest> next();
  /// Posts the invocation's result (JSON text).
  [[nodiscard]] Status post_response(std::string_view request_id, std::string_view body);
  /// Posts an invocation error.
  [[nodiscard]] Status post_error(std::string_view request_id, const FunctionError& error);
  /// Posts an initialization error (the function could not start; Lambda reports it and exits us).
  [[nodiscard]] Status post_init_error(const FunctionError& error);

 private:
  RuntimeApiClient(std::string base_url, std::unique_ptr<aws::HttpClient> http)
      : base_url_(std::move(base_url)), http_(std::move(http)) {}
  [[nodiscard]] Status post(std::string_view path, std::string_view body, std::string_view error_type);

  std::string base_url_;  ///< "http://host:port/2018-06-01"
  std::unique_ptr<aws::HttpClient> http_;
};

}  // namespace es::lambda
