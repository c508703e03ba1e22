#include "aws/stepfunctions_client.h"

#include <algorithm>

#include "aws/errors.h"
#include "core/json_reader.h"
#include "core/json_writer.h"

namespace es::aws {

std::string start_execution_body(std::string_view state_machine_arn, std::string_view name,
                                 std::string_view input) {
  std::string body;
  json::Writer w(body);
  w.begin_object();
  w.key("stateMachineArn").value(state_machine_arn);
  w.key("name").value(name);
  w.key("input").value(input);
  w.end_object();
  return body;
}

bool valid_execution_name(std::string_view name) {
  return !name.empty() && name.size() <= 80 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

StepFunctionsClient::StepFunctionsClient(std::shared_ptr<const ServiceContext> context,
                                         std::unique_ptr<HttpClient> http)
    : caller_(std::move(context), std::move(http)) {}

Result<std::string> StepFunctionsClient::start_execution(std::string_view state_machine_arn,
                                                         std::string_view name, std::string_view input) {
  static constexpr std::string_view kOperation = "StepFunctions.StartExecution";
  if (!valid_execution_name(name)) {
    Error e = Error::invalid_argument(
        std::string(state_machine_arn),
        "an execution name is 1-80 letters, digits, '-' or '_': '" + std::string(name) + "' is not");
    return std::move(e).with_context(kOperation);
  }
  const std::string body = start_execution_body(state_machine_arn, name, input);
  HttpRequest request;
  request.method = "POST";
  request.url = caller_.context().endpoint.base_url() + "/";
  request.headers = {
      {"Host", caller_.context().endpoint.authority()},
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Target", "AWSStepFunctions.StartExecution"},
  };
  request.body = body;
  ES_ASSIGN_OR_RETURN(HttpResponse response,
                      caller_.call(kOperation, state_machine_arn, request,
                                   [state_machine_arn](const HttpResponse& r) -> std::optional<Error> {
                                     if (r.status >= 200 && r.status < 300) return std::nullopt;
                                     // The JSON 1.0 protocol's errors: {"__type": ..., "message": ...}.
                                     return dynamodb_error(r, kOperation, state_machine_arn);
                                   }));
  ES_ASSIGN_OR_RETURN(const json::Value answer, json::parse_document(response.body, "StartExecution answer"));
  ES_ASSIGN_OR_RETURN(const std::string_view arn, answer.string("executionArn"));
  return std::string(arn);
}

Result<std::unique_ptr<StepFunctionsClient>> make_stepfunctions_client(const EnvLookup& env,
                                                                       const StepFunctionsOptions& options) {
  ES_ASSIGN_OR_RETURN(ServiceClientParts parts, make_service_client_parts(env, "states", options));
  return std::make_unique<StepFunctionsClient>(std::move(parts.context), std::move(parts.http));
}

}  // namespace es::aws
