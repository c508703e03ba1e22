#pragma once
/// Step Functions StartExecution over its JSON 1.0 protocol (POST, X-Amz-Target
/// AWSStepFunctions.StartExecution, signing name "states"): how the Lambda hands an hour it could not
/// finish to the scale-out state machine.

#include <memory>
#include <string>
#include <string_view>

#include "aws/caller.h"
#include "aws/service_client.h"
#include "core/env.h"
#include "core/result.h"

namespace es::aws {

/// Error::code Step Functions answers when an execution of that name exists already (running with
/// another input, or finished): a name is used once per state machine for 90 days.
inline constexpr std::string_view kExecutionAlreadyExists = "ExecutionAlreadyExists";

/// The body of one StartExecution call (exposed for tests).
[[nodiscard]] std::string start_execution_body(std::string_view state_machine_arn, std::string_view name,
                                               std::string_view input);

/// Whether name may name an execution: 1 to 80 characters, letters, digits, '-' and '_' (what Step
/// Functions accepts, and what its logs and metrics show unescaped).
[[nodiscard]] bool valid_execution_name(std::string_view name);

/// One Step Functions client: owns an AwsCaller and its keep-alive connection; not thread-safe.
class StepFunctionsClient {
 public:
  StepFunctionsClient(std::shared_ptr<const ServiceContext> context, std::unique_ptr<HttpClient> http);

  /// Starts an execution of state_machine_arn named name with input (a JSON document) and returns its
  /// ARN. Starting the same name with the same input while it runs returns the running one's ARN (Step
  /// Functions' own idempotence); any other reuse of the name is an Error with code
  /// kExecutionAlreadyExists. Errors name "StepFunctions.StartExecution" and the state machine.
  [[nodiscard]] Result<std::string> start_execution(std::string_view state_machine_arn, std::string_view name,
                                                    std::string_view input);

  [[nodiscard]] const CallStats& stats() const { return caller_.stats(); }

 private:
  AwsCaller caller_;
};

using StepFunctionsOptions = ServiceClientOptions;

/// A client for the "states" endpoint of env (AWS_ENDPOINT_URL_SFN, AWS_ENDPOINT_URL, or AWS's), the
/// region of env and the default credentials chain. Validates the endpoint without any network call.
[[nodiscard]] Result<std::unique_ptr<StepFunctionsClient>> make_stepfunctions_client(
    const EnvLookup& env, const StepFunctionsOptions& options);

}  // namespace es::aws
