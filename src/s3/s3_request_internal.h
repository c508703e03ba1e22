#pragma once
/// Helpers shared by the S3Client sources: request headers, payload digests, error hints.
/// Not part of the s3 module's interface.

#include <string>
#include <string_view>

#include "aws/http.h"
#include "core/result.h"
#include "s3/s3_types.h"

namespace es::s3::detail {

/// "bucket/key", or "bucket" when key is empty.
[[nodiscard]] std::string resource_of(std::string_view bucket, std::string_view key);

/// Validates bucket (and key unless empty) and names operation in the error.
[[nodiscard]] Status check_names(std::string_view operation, std::string_view bucket, std::string_view key);

/// SHA-256 of a payload in the two spellings S3 wants.
struct PayloadDigests {
  std::string hex;     ///< x-amz-content-sha256
  std::string base64;  ///< x-amz-checksum-sha256
};

/// Digests of body, or taken from precomputed_base64 (validated, not recomputed) when not empty.
[[nodiscard]] Result<PayloadDigests> payload_digests(std::string_view body,
                                                     std::string_view precomputed_base64);

/// Content-Type, Content-Encoding, SSE, x-amz-meta-*, expected owner: headers that describe the
/// object (PutObject, CreateMultipartUpload). kInvalidArgument for unusable metadata.
[[nodiscard]] Status add_object_headers(aws::Headers& headers, const PutOptions& options);

/// Content-Length, x-amz-content-sha256 and, as options ask, x-amz-checksum-sha256 and Content-MD5
/// (of body, which must then hold the `size` bytes).
void add_payload_headers(aws::Headers& headers, std::uint64_t size, const PayloadDigests& digests,
                         const PutOptions& options, std::string_view body = {});

/// If-None-Match: * and If-Match: "<etag>" as options ask (PutObject, CompleteMultipartUpload).
void add_condition_headers(aws::Headers& headers, const PutOptions& options);

/// x-amz-expected-bucket-owner when owner is not empty.
void add_owner_header(aws::Headers& headers, std::string_view owner);

/// The header's value as a string, or empty.
[[nodiscard]] std::string header_or_empty(const aws::HttpResponse& response, std::string_view lower_name);

/// Appends ". <hint>." to the error's message, in the style of aws::s3_error's own hints.
void add_hint(Error& error, std::string_view hint);

/// Adds what to do for the errors whose fix is obvious (missing bucket, access denied or wrong
/// owner, bad credentials, wrong region, checksum mismatch) and sets kind kNotFound for 404s.
void explain(Error& error, std::string_view expected_owner);

}  // namespace es::s3::detail
