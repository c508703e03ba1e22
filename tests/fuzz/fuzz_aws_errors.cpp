// libFuzzer target: turning service error responses into Error values (aws::s3_error, the XML
// parser behind it, and aws::dynamodb_error).
//
// Input layout: byte 0-1 the HTTP status (100..599), byte 2 selects the operation and which request
// id header is present, the rest is the body. Invariants: no crash or sanitizer report; the status is
// kept; the message is never empty; throttling codes, and only they, classify as kThrottled and
// retryable; to_string() names the operation.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/errors.h"

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_aws_errors: invariant broken: %s\n", what);
    std::abort();
  }
}

void check(const es::Error& e, int status, std::string_view operation) {
  require(e.http_status == status, "the status is kept");
  require(!e.message.empty(), "the message is never empty");
  require(e.operation == operation, "the operation is kept");
  require((e.kind == es::ErrorKind::kThrottled) == es::aws::is_throttling_code(e.code),
          "kThrottled exactly for throttling codes");
  if (e.kind == es::ErrorKind::kThrottled) require(e.retryable, "throttling is retryable");
  if (e.kind == es::ErrorKind::kAccessDenied || e.kind == es::ErrorKind::kNotFound) {
    require(!e.retryable, "access and not-found errors are final");
  }
  const std::string line = e.to_string();
  require(line.find(operation) != std::string::npos, "to_string names the operation");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const int status = 100 + (data[0] << 8 | data[1]) % 500;
  const std::uint8_t selector = data[2];
  es::aws::HttpResponse response;
  response.status = status;
  if ((selector & 1) != 0) response.headers.emplace_back("x-amz-request-id", "REQ123");
  if ((selector & 2) != 0) response.headers.emplace_back("x-amzn-requestid", "");
  response.body.assign(reinterpret_cast<const char*>(data + 3), size - 3);
  response.body.reserve(response.body.size() + es::aws::HttpResponse::kBodyPadding);

  static constexpr std::string_view kS3Operations[] = {"S3.GetObject", "S3.HeadBucket", "S3.PutObject",
                                                       "S3.CompleteMultipartUpload"};
  const std::string_view s3_operation = kS3Operations[(selector >> 2) % 4];
  check(es::aws::s3_error(response, s3_operation, "bucket/key"), status, s3_operation);
  check(es::aws::dynamodb_error(response, "DynamoDB.Scan", "events"), status, "DynamoDB.Scan");
  return 0;
}
