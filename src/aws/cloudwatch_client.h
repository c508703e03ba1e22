#pragma once
/// CloudWatch PutMetricData over the query protocol (form-encoded POST, Action=PutMetricData,
/// Version=2010-08-01, signing name "monitoring"): what the SDKs used before the JSON protocol, and
/// what moto 5.2 and every CloudWatch endpoint accept.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/caller.h"
#include "aws/service_client.h"
#include "core/env.h"
#include "core/result.h"

namespace es::aws {

/// One value of one metric.
struct MetricDatum {
  std::string name;  ///< MetricName, 1-255 characters
  double value = 0;  ///< must be finite
  /// A CloudWatch unit: "Count", "Bytes", "Milliseconds", "Count/Second", "None", ...
  std::string unit = "None";
  /// (name, value) pairs, at most 30.
  std::vector<std::pair<std::string, std::string>> dimensions;
  /// Milliseconds since the epoch; std::nullopt: the time CloudWatch receives it.
  std::optional<std::int64_t> timestamp_ms;
};

/// PutMetricData takes at most this many MetricData members per call.
inline constexpr std::size_t kMaxMetricDataPerCall = 1000;

/// The form-encoded body of one PutMetricData call (exposed for tests). data.size() must be at most
/// kMaxMetricDataPerCall.
[[nodiscard]] std::string put_metric_data_body(std::string_view metric_namespace,
                                               std::span<const MetricDatum> data);

/// One CloudWatch client: owns an AwsCaller and its keep-alive connection; not thread-safe.
class CloudWatchClient {
 public:
  CloudWatchClient(std::shared_ptr<const ServiceContext> context, std::unique_ptr<HttpClient> http);

  /// Sends data in as many calls as needed (at most kMaxMetricDataPerCall values each) and returns
  /// the number of calls. Stops at the first call that fails after its retries; its Error names
  /// "CloudWatch.PutMetricData" and the namespace. Error kInvalidArgument (no request sent) for a
  /// value that is not finite or a datum without a name.
  [[nodiscard]] Result<std::size_t> put_metric_data(std::string_view metric_namespace,
                                                    std::span<const MetricDatum> data);

  [[nodiscard]] const CallStats& stats() const { return caller_.stats(); }

 private:
  AwsCaller caller_;
};

using CloudWatchOptions = ServiceClientOptions;

/// A client for the "monitoring" endpoint of env (AWS_ENDPOINT_URL_CLOUDWATCH, AWS_ENDPOINT_URL, or
/// AWS's), the region of env and the default credentials chain. Validates the endpoint without any
/// network call (Error kInvalidArgument naming the setting).
[[nodiscard]] Result<std::unique_ptr<CloudWatchClient>> make_cloudwatch_client(
    const EnvLookup& env, const CloudWatchOptions& options);

}  // namespace es::aws
