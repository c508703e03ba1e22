#pragma once
/// Turning service responses into Error values: AWS error codes, retryability, request ids.

#include <optional>
#include <string_view>

#include "aws/http.h"
#include "core/result.h"

namespace es::aws {

/// Throttling codes that every SDK retries with a longer backoff.
[[nodiscard]] bool is_throttling_code(std::string_view code);

/// Error for a DynamoDB (JSON 1.0 protocol) response that is not 2xx. The code is the part of
/// "__type" after '#'; "message"/"Message" becomes the message.
[[nodiscard]] Error dynamodb_error(const HttpResponse& response, std::string_view operation,
                                   std::string_view resource);

/// Error for an S3 response that is not 2xx, or a 200 whose body is an <Error> document
/// (CompleteMultipartUpload, CopyObject). Parses <Code>, <Message>, <RequestId>; HEAD responses have
/// no body, so the code is derived from the status (404 NotFound/NoSuchBucket, 403 AccessDenied, ...).
[[nodiscard]] Error s3_error(const HttpResponse& response, std::string_view operation,
                             std::string_view resource);

/// Fills kind and retryable from http_status and code: throttling codes, 5xx, 408, 429,
/// RequestTimeout, ConditionalRequestConflict (409), transport errors are retryable; validation and
/// access errors are not. PreconditionFailed (412) is kConflict, never retried.
void classify(Error& error);

/// The request id header (x-amzn-requestid or x-amz-request-id), if any.
[[nodiscard]] std::optional<std::string_view> request_id(const HttpResponse& response);

}  // namespace es::aws
