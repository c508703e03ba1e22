#include "aws/service_client.h"

#include <chrono>

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/retry.h"

namespace es::aws {

Result<ServiceClientParts> make_service_client_parts(const EnvLookup& env, std::string_view service,
                                                     const ServiceClientOptions& options) {
  const std::string region = resolve_region(env);
  ES_ASSIGN_OR_RETURN(Endpoint endpoint, resolve_endpoint(service, env, region));
  HttpOptions http;
  http.verify_tls = !options.insecure_tls;
  http.ca_bundle = options.ca_bundle;
  http.request_timeout = std::chrono::milliseconds(10'000);
  HttpOptions metadata_http = http;
  metadata_http.connect_timeout = std::chrono::milliseconds(1000);
  metadata_http.request_timeout = std::chrono::milliseconds(3000);
  StandardRetryOptions retry;
  retry.max_attempts = options.max_attempts;
  ServiceClientParts parts;
  parts.context = std::make_shared<ServiceContext>();
  parts.context->endpoint = endpoint;
  parts.context->signing = SigningParams{region, std::string(service), false};
  parts.context->credentials =
      make_default_credentials_chain(env, [metadata_http] { return make_curl_http_client(metadata_http); });
  parts.context->retry = make_standard_retry_policy(retry);
  parts.context->sleeper = real_sleeper();
  parts.context->deadline = options.deadline;
  parts.http = make_curl_http_client(http);
  return parts;
}

}  // namespace es::aws
