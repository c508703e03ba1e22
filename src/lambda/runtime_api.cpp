#include "lambda/runtime_api.h"

#include <charconv>

#include <fmt/format.h>

#include "aws/sigv4.h"
#include "core/json_writer.h"

namespace es::lambda {
namespace {

Error runtime_error(std::string_view operation, std::string message, int status = 0) {
  Error e;
  e.kind = status == 0 ? ErrorKind::kTransport : ErrorKind::kServiceError;
  e.operation = std::string(operation);
  e.resource = "AWS_LAMBDA_RUNTIME_API";
  e.message = std::move(message);
  e.http_status = status;
  return e;
}

std::string excerpt(std::string_view body) {
  return std::string(body.substr(0, 300));
}

}  // namespace

std::string render_function_error(const FunctionError& error) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("errorMessage").value(error.message);
  w.key("errorType").value(error.type);
  w.key("stackTrace").begin_array().end_array();
  w.end_object();
  return out;
}

aws::HttpOptions runtime_api_http_options() {
  aws::HttpOptions options;
  options.request_timeout = std::chrono::milliseconds(0);
  options.low_speed_bytes = 0;  // curl: a limit of 0 turns the low-speed check off
  return options;
}

Result<RuntimeApiClient> RuntimeApiClient::make(std::string_view endpoint,
                                                std::unique_ptr<aws::HttpClient> http) {
  const bool bad = endpoint.empty() || endpoint.find("://") != std::string_view::npos ||
                   endpoint.find_first_of("/?# \t\r\n") != std::string_view::npos;
  if (bad) {
    return Error::invalid_argument("AWS_LAMBDA_RUNTIME_API",
                                   fmt::format("expected host:port as Lambda sets it, got '{}'", endpoint));
  }
  return RuntimeApiClient(fmt::format("http://{}/2018-06-01", endpoint), std::move(http));
}

Result<InvocationRequest> RuntimeApiClient::next() {
  aws::HttpRequest request;
  request.method = "GET";
  request.url = base_url_ + "/runtime/invocation/next";
  auto response = http_->send(request);
  if (!response.ok()) return Error(response.error()).with_context("lambda.next", "AWS_LAMBDA_RUNTIME_API");
  if (response->status != 200) {
    return runtime_error(
        "lambda.next", fmt::format("next invocation: HTTP {}: {}", response->status, excerpt(response->body)),
        response->status);
  }
  InvocationRequest invocation;
  invocation.request_id = std::string(response->header("lambda-runtime-aws-request-id").value_or(""));
  if (invocation.request_id.empty()) {
    return runtime_error("lambda.next", "next invocation without Lambda-Runtime-Aws-Request-Id",
                         response->status);
  }
  if (auto deadline = response->header("lambda-runtime-deadline-ms")) {
    std::int64_t ms = 0;
    const char* end = deadline->data() + deadline->size();
    if (std::from_chars(deadline->data(), end, ms).ptr == end && ms > 0) invocation.deadline_ms = ms;
  }
  invocation.function_arn = std::string(response->header("lambda-runtime-invoked-function-arn").value_or(""));
  invocation.trace_id = std::string(response->header("lambda-runtime-trace-id").value_or(""));
  invocation.payload = std::move(response->body);
  return invocation;
}

Status RuntimeApiClient::post(std::string_view path, std::string_view body, std::string_view error_type) {
  aws::HttpRequest request;
  request.method = "POST";
  request.url = base_url_ + std::string(path);
  request.headers.emplace_back("Content-Type", "application/json");
  if (!error_type.empty())
    request.headers.emplace_back("Lambda-Runtime-Function-Error-Type", std::string(error_type));
  request.body = body;
  auto response = http_->send(request);
  if (!response.ok()) return Error(response.error()).with_context("lambda.post", path);
  if (response->status < 200 || response->status >= 300) {
    return runtime_error("lambda.post",
                         fmt::format("POST {}: HTTP {}: {}", path, response->status, excerpt(response->body)),
                         response->status);
  }
  return ok_status();
}

Status RuntimeApiClient::post_response(std::string_view request_id, std::string_view body) {
  return post(fmt::format("/runtime/invocation/{}/response", aws::uri_encode(request_id, true)), body, "");
}

Status RuntimeApiClient::post_error(std::string_view request_id, const FunctionError& error) {
  return post(fmt::format("/runtime/invocation/{}/error", aws::uri_encode(request_id, true)),
              render_function_error(error), error.type);
}

Status RuntimeApiClient::post_init_error(const FunctionError& error) {
  return post("/runtime/init/error", render_function_error(error), error.type);
}

}  // namespace es::lambda
