#include "aws/errors.h"

#include <array>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "core/json_reader.h"

namespace es::aws {
namespace {

// The throttling codes of the SDKs' standard retry mode (the boto3 and AWS CLI retry guides list
// the same set; tests/unit/aws_caller_test.cpp pins each one).
constexpr std::array<std::string_view, 13> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
};

// Codes that are transient whatever their HTTP status (the SDKs' "transient error" list).
// ConditionalRequestConflict (409) is S3's answer to a conditional write that raced another write
// of the same key: the condition has not been decided, so the request is tried again.
constexpr std::array<std::string_view, 8> kTransientCodes = {
    "RequestTimeout",  "RequestTimeoutException", "PriorRequestNotComplete", "InternalError",
    "InternalFailure", "ServiceUnavailable",      "Crc32Mismatch",           "ConditionalRequestConflict",
};

constexpr std::array<std::string_view, 9> kAccessCodes = {
    "AccessDenied",       "AccessDeniedException",       "SignatureDoesNotMatch",
    "InvalidAccessKeyId", "UnrecognizedClientException", "InvalidClientTokenId",
    "ExpiredToken",       "ExpiredTokenException",       "MissingAuthenticationToken",
};

constexpr std::array<std::string_view, 5> kNotFoundCodes = {
    "NoSuchBucket", "NoSuchKey", "NotFound", "ResourceNotFoundException", "NoSuchUpload",
};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view code) {
  for (auto c : list) {
    if (c == code) return true;
  }
  return false;
}

// What an operator can do about the most common errors.
std::string_view hint(std::string_view code) {
  if (code == "SignatureDoesNotMatch") {
    return " Check the secret access key (AWS_SECRET_ACCESS_KEY or the profile) and the region.";
  }
  if (code == "InvalidAccessKeyId" || code == "UnrecognizedClientException" ||
      code == "InvalidClientTokenId") {
    return " Check the access key id and that the credentials belong to this account.";
  }
  if (code == "ExpiredToken" || code == "ExpiredTokenException") return " Refresh the session credentials.";
  if (code == "AccessDenied" || code == "AccessDeniedException") {
    return " Check the IAM policy of the role running EagleSense (and, for a bucket, its bucket policy).";
  }
  if (code == "ResourceNotFoundException") return " Check DYNAMODB_TABLE_NAME and the region.";
  if (code == "NoSuchBucket") return " Create the bucket or fix S3_BUCKET_PREFIX.";
  return "";
}

// Reads <Code>, <Message> and <RequestId> of the first <Error> element anywhere in an XML body: S3
// answers <Error> at the root, query-protocol services (and moto, even for DynamoDB's signature
// errors) wrap it in <ErrorResponse><Errors>. Returns false when the body has none.
bool parse_xml_error(std::string_view body, Error& e) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return false;
  const pugi::xml_node error = doc.find_node(
      [](const pugi::xml_node& n) { return std::string_view(n.name()) == "Error" && n.child("Code"); });
  if (!error) return false;
  e.code = error.child_value("Code");
  e.message = error.child_value("Message");
  if (e.request_id.empty()) e.request_id = error.child_value("RequestId");
  return true;
}

void append_hint(std::string& message, std::string_view hint_text) {
  if (hint_text.empty()) return;
  if (!message.empty() && message.back() != '.') message += '.';
  message += hint_text;
}

Error base_error(const HttpResponse& response, std::string_view operation, std::string_view resource) {
  Error e;
  e.operation = std::string(operation);
  e.resource = std::string(resource);
  e.http_status = response.status;
  if (auto id = request_id(response)) e.request_id = std::string(*id);
  return e;
}

std::string_view code_for_status(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 403:
      return "AccessDenied";
    case 404:
      return "NotFound";
    case 408:
      return "RequestTimeout";
    case 409:
      return "Conflict";
    case 412:
      return "PreconditionFailed";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    default:
      return "";
  }
}

}  // namespace

bool is_throttling_code(std::string_view code) {
  return contains(kThrottlingCodes, code);
}

std::optional<std::string_view> request_id(const HttpResponse& response) {
  if (auto id = response.header("x-amzn-requestid")) return id;
  if (auto id = response.header("x-amz-request-id")) return id;
  return std::nullopt;
}

void classify(Error& e) {
  if (is_throttling_code(e.code)) {
    e.kind = ErrorKind::kThrottled;
    e.retryable = true;
  } else if (contains(kAccessCodes, e.code) || (e.code.empty() && e.http_status == 403)) {
    e.kind = ErrorKind::kAccessDenied;
    e.retryable = false;
  } else if (contains(kNotFoundCodes, e.code) || (e.code.empty() && e.http_status == 404)) {
    e.kind = ErrorKind::kNotFound;
    e.retryable = false;
  } else if (e.code == "PreconditionFailed" || (e.code.empty() && e.http_status == 412)) {
    // A condition that did not hold is an answer, not a fault: repeating the request cannot change it.
    e.kind = ErrorKind::kConflict;
    e.retryable = false;
  } else if (e.kind == ErrorKind::kTransport) {
    // Set by the transport; keep its retryable decision (a TLS verification failure is final).
  } else if (contains(kTransientCodes, e.code) || e.http_status >= 500 || e.http_status == 408 ||
             e.http_status == 429) {
    if (e.kind != ErrorKind::kInvalidData) e.kind = ErrorKind::kServiceError;
    e.retryable = true;
  } else {
    if (e.kind != ErrorKind::kInvalidData) e.kind = ErrorKind::kServiceError;
    e.retryable = false;
  }
}

Error dynamodb_error(const HttpResponse& response, std::string_view operation, std::string_view resource) {
  Error e = base_error(response, operation, resource);
  // A JSON body names the error in __type ("com.amazonaws...#Code") and message (or Message); a
  // body that is not JSON, or members of other types, leave the code to the XML and status below.
  if (auto doc = json::parse_document(response.body, "DynamoDB error"); doc.ok() && doc->is_object()) {
    if (auto type = doc->string("__type"); type.ok()) {
      const auto hash = type->rfind('#');
      e.code = std::string(hash == std::string_view::npos ? *type : type->substr(hash + 1));
    }
    auto message = doc->string("message");
    if (!message.ok()) message = doc->string("Message");
    if (message.ok()) e.message = std::string(*message);
  }
  if (e.code.empty() && !response.body.empty() && response.body.front() == '<') {
    static_cast<void>(parse_xml_error(response.body, e));
  }
  if (e.code.empty()) e.code = std::string(code_for_status(response.status));
  if (e.message.empty()) e.message = "the service returned an error without a message";
  append_hint(e.message, hint(e.code));
  classify(e);
  return e;
}

Error s3_error(const HttpResponse& response, std::string_view operation, std::string_view resource) {
  Error e = base_error(response, operation, resource);
  if (!response.body.empty()) static_cast<void>(parse_xml_error(response.body, e));
  if (e.code.empty()) {
    // HEAD responses carry no body: derive what we can from the status.
    e.code = std::string(code_for_status(response.status));
    if (response.status == 404 && operation == "S3.HeadBucket") e.code = "NoSuchBucket";
  }
  if (e.message.empty()) e.message = fmt::format("S3 answered HTTP {}", response.status);
  append_hint(e.message, hint(e.code));
  classify(e);
  return e;
}

}  // namespace es::aws
