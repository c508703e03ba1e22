#include "aws/cloudwatch_client.h"

#include <cmath>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "aws/errors.h"
#include "aws/service_client.h"
#include "aws/sigv4.h"
#include "core/time.h"

namespace es::aws {
namespace {

// Query-protocol values are form-encoded; SigV4's encoding (RFC 3986 unreserved kept, the rest %XX)
// is a valid form encoding and never leaves '+' to be read as a space.
void append_param(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body += '&';
  body += uri_encode(name, true);
  body += '=';
  body += uri_encode(value, true);
}

std::string format_value(double v) {
  // Shortest text that reads back as the same double ("12", "0.5", "1e+20").
  return fmt::format("{}", v);
}

// Query-protocol errors carry <RequestId> beside <Error>, not inside it.
std::string xml_request_id(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return "";
  const pugi::xml_node id =
      doc.find_node([](const pugi::xml_node& n) { return std::string_view(n.name()) == "RequestId"; });
  return id ? id.child_value() : "";
}

Error invalid(std::string_view metric_namespace, std::string message) {
  Error e = Error::invalid_argument(std::string(metric_namespace), std::move(message));
  e.operation = "CloudWatch.PutMetricData";
  return e;
}

}  // namespace

std::string put_metric_data_body(std::string_view metric_namespace, std::span<const MetricDatum> data) {
  std::string body;
  append_param(body, "Action", "PutMetricData");
  append_param(body, "Version", "2010-08-01");
  append_param(body, "Namespace", metric_namespace);
  std::size_t i = 0;
  for (const MetricDatum& d : data) {
    ++i;
    const std::string member = fmt::format("MetricData.member.{}.", i);
    append_param(body, member + "MetricName", d.name);
    append_param(body, member + "Value", format_value(d.value));
    append_param(body, member + "Unit", d.unit);
    if (d.timestamp_ms) {
      append_param(body, member + "Timestamp", format_iso8601_us(*d.timestamp_ms * 1000));
    }
    std::size_t j = 0;
    for (const auto& [name, value] : d.dimensions) {
      ++j;
      append_param(body, fmt::format("{}Dimensions.member.{}.Name", member, j), name);
      append_param(body, fmt::format("{}Dimensions.member.{}.Value", member, j), value);
    }
  }
  return body;
}

CloudWatchClient::CloudWatchClient(std::shared_ptr<const ServiceContext> context,
                                   std::unique_ptr<HttpClient> http)
    : caller_(std::move(context), std::move(http)) {}

Result<std::size_t> CloudWatchClient::put_metric_data(std::string_view metric_namespace,
                                                      std::span<const MetricDatum> data) {
  if (metric_namespace.empty()) return invalid(metric_namespace, "the namespace is empty");
  for (const MetricDatum& d : data) {
    if (d.name.empty()) return invalid(metric_namespace, "a metric has no name");
    if (!std::isfinite(d.value)) {
      return invalid(metric_namespace, fmt::format("metric {} has a value that is not finite", d.name));
    }
  }
  static constexpr std::string_view kOperation = "CloudWatch.PutMetricData";
  std::size_t calls = 0;
  for (std::size_t first = 0; first < data.size(); first += kMaxMetricDataPerCall) {
    const std::span<const MetricDatum> batch =
        data.subspan(first, std::min(kMaxMetricDataPerCall, data.size() - first));
    const std::string body = put_metric_data_body(metric_namespace, batch);
    HttpRequest request;
    request.method = "POST";
    request.url = caller_.context().endpoint.base_url() + "/";
    request.headers = {
        {"Host", caller_.context().endpoint.authority()},
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
    };
    request.body = body;
    auto response = caller_.call(kOperation, metric_namespace, request,
                                 [metric_namespace](const HttpResponse& r) -> std::optional<Error> {
                                   if (r.status >= 200 && r.status < 300) return std::nullopt;
                                   // Query-protocol errors are <ErrorResponse><Error><Code>... XML,
                                   // which s3_error reads for any service.
                                   Error e = s3_error(r, kOperation, metric_namespace);
                                   if (e.request_id.empty()) e.request_id = xml_request_id(r.body);
                                   if (e.message.starts_with("S3 answered")) {
                                     e.message = fmt::format("CloudWatch answered HTTP {}", r.status);
                                   }
                                   return e;
                                 });
    if (!response.ok()) return std::move(response).error();
    ++calls;
  }
  return calls;
}

Result<std::unique_ptr<CloudWatchClient>> make_cloudwatch_client(const EnvLookup& env,
                                                                 const CloudWatchOptions& options) {
  ES_ASSIGN_OR_RETURN(ServiceClientParts parts, make_service_client_parts(env, "monitoring", options));
  return std::make_unique<CloudWatchClient>(std::move(parts.context), std::move(parts.http));
}

}  // namespace es::aws
