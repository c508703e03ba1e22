#pragma once
/// What a client of one AWS service outside the export's ports needs (CloudWatch for metrics, Step
/// Functions for the hand-off): its endpoint, region, signing, credentials chain, retry policy and
/// transport, all from the environment.

#include <memory>
#include <string>
#include <string_view>

#include "aws/caller.h"
#include "core/env.h"
#include "core/result.h"

namespace es::aws {

struct ServiceClientOptions {
  int max_attempts = 3;
  bool insecure_tls = false;
  std::string ca_bundle;
  std::shared_ptr<const Deadline> deadline;  ///< the run's deadline (null: none)
};

struct ServiceClientParts {
  std::shared_ptr<ServiceContext> context;
  std::unique_ptr<HttpClient> http;
};

/// The context and transport of a client of service (its signing name: "monitoring", "states"): the
/// endpoint of env (AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL, or AWS's), env's region and default
/// credentials chain, a 10 s request timeout. Validates the endpoint without any network call (Error
/// kInvalidArgument naming the setting).
[[nodiscard]] Result<ServiceClientParts> make_service_client_parts(const EnvLookup& env,
                                                                   std::string_view service,
                                                                   const ServiceClientOptions& options);

}  // namespace es::aws
