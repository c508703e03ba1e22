// S3Client's multipart uploads and upload(), which picks a single PUT or a multipart upload.

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "aws/errors.h"
#include "core/deadline.h"
#include "core/hash.h"
#include "core/log.h"
#include "s3/s3_addressing.h"
#include "s3/s3_client.h"
#include "s3/s3_request_internal.h"
#include "s3/s3_xml.h"

namespace es::s3 {
namespace {

using aws::HttpRequest;
using aws::HttpResponse;
using detail::resource_of;

/// The checksum S3 computes for a multipart upload: SHA-256 over the concatenated raw part digests,
/// base64, then "-<parts>" ("Checking object integrity", S3 user guide). Empty when a part has none.
std::string composite_checksum(std::span<const UploadedPart> parts) {
  Sha256 hasher;
  std::string raw;
  for (const UploadedPart& part : parts) {
    if (part.checksum_sha256.empty() || !base64_decode(part.checksum_sha256, raw)) return {};
    hasher.update(raw);
  }
  return fmt::format("{}-{}", base64_encode(hasher.finish()), parts.size());
}

Error with_response_context(Error error, const HttpResponse& response, std::string_view operation,
                            std::string_view resource) {
  error.http_status = response.status;
  error.request_id = std::string(aws::request_id(response).value_or(""));
  error.resource = std::string(resource);
  return std::move(error).with_context(operation);
}

}  // namespace

Result<std::string> S3Client::create_multipart_upload(std::string_view bucket, std::string_view key,
                                                      const PutOptions& options) {
  static constexpr std::string_view kOperation = "S3.CreateMultipartUpload";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  const std::string resource = resource_of(bucket, key);
  HttpRequest request;
  request.method = "POST";
  request.url = s3_url(caller_.context().endpoint, bucket, key, std::array{QueryParam{"uploads", "", false}});
  if (Status s = detail::add_object_headers(request.headers, options); !s.ok()) {
    return std::move(s).error().with_context(kOperation);
  }
  request.headers.emplace_back("content-length", "0");
  if (options.checksum_sha256) request.headers.emplace_back("x-amz-checksum-algorithm", "SHA256");

  ES_ASSIGN_OR_RETURN(HttpResponse response,
                      send(kOperation, resource, request, options.expected_bucket_owner));
  Result<std::string> upload_id = parse_initiate_multipart_upload(response.body);
  if (!upload_id.ok())
    return with_response_context(std::move(upload_id).error(), response, kOperation, resource);
  return upload_id;
}

Result<UploadedPart> S3Client::upload_part(std::string_view bucket, std::string_view key,
                                           std::string_view upload_id, int part_number, std::string_view body,
                                           const PutOptions& options) {
  static constexpr std::string_view kOperation = "S3.UploadPart";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  const std::string resource = resource_of(bucket, key);
  if (part_number < 1 || part_number > static_cast<int>(kMaxParts)) {
    return Error::invalid_argument(resource, fmt::format("part number {} is outside 1..10000", part_number))
        .with_context(kOperation);
  }
  if (upload_id.empty())
    return Error::invalid_argument(resource, "the upload id is empty").with_context(kOperation);
  ES_ASSIGN_OR_RETURN(detail::PayloadDigests digests, detail::payload_digests(body, {}));

  HttpRequest request;
  request.method = "PUT";
  request.url = s3_url(caller_.context().endpoint, bucket, key,
                       std::array{QueryParam{"partNumber", std::to_string(part_number)},
                                  QueryParam{"uploadId", std::string(upload_id)}});
  request.body = body;
  detail::add_payload_headers(request.headers, body.size(), digests, options, body);
  detail::add_owner_header(request.headers, options.expected_bucket_owner);

  Result<HttpResponse> response = send(kOperation, resource, request, options.expected_bucket_owner);
  if (!response.ok()) {
    Error error = std::move(response).error();
    detail::add_hint(error, fmt::format("(part {} of upload {})", part_number, upload_id));
    return error;
  }
  UploadedPart part;
  part.part_number = part_number;
  part.etag = unquote_etag(detail::header_or_empty(*response, "etag"));
  if (part.etag.empty()) {
    return with_response_context(
        Error::invalid_data(resource, fmt::format("part {} was answered without an ETag", part_number)),
        *response, kOperation, resource);
  }
  if (options.checksum_sha256) part.checksum_sha256 = digests.base64;
  part.size = body.size();
  return part;
}

Result<PutResult> S3Client::complete_multipart_upload(std::string_view bucket, std::string_view key,
                                                      std::string_view upload_id,
                                                      std::span<const UploadedPart> parts,
                                                      const PutOptions& options) {
  static constexpr std::string_view kOperation = "S3.CompleteMultipartUpload";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  const std::string resource = resource_of(bucket, key);
  if (parts.empty())
    return Error::invalid_argument(resource, "no parts to complete").with_context(kOperation);
  const std::string body = complete_multipart_upload_body(parts);
  HttpRequest request;
  request.method = "POST";
  request.url = s3_url(caller_.context().endpoint, bucket, key,
                       std::array{QueryParam{"uploadId", std::string(upload_id)}});
  request.body = body;
  request.headers.emplace_back("content-type", "application/xml");
  request.headers.emplace_back("content-length", std::to_string(body.size()));
  detail::add_condition_headers(request.headers, options);
  detail::add_owner_header(request.headers, options.expected_bucket_owner);

  Result<HttpResponse> sent =
      send(kOperation, resource, request, options.expected_bucket_owner, /*check_error_body=*/true);
  if (!sent.ok()) {
    // The object may be complete although the answer was lost (a reset after S3 assembled it):
    // every retry then finds the upload gone (NoSuchUpload, or a 5xx from some servers). Before
    // calling the upload failed, look at the key: the same size and checksum mean it is ours.
    const Error& e = sent.error();
    if (e.retryable || e.code == "NoSuchUpload") {
      if (auto done = completed_object_matches(bucket, key, parts, options)) {
        log::warn(
            "s3.complete_answer_lost",
            {{"bucket", bucket}, {"key", key}, {"error", e.to_string()}, {"resolution", "object verified"}});
        return *done;
      }
    }
    return std::move(sent).error();
  }
  HttpResponse& response = sent.value();
  Result<CompletedUpload> completed = parse_complete_multipart_upload(response.body);
  if (!completed.ok())
    return with_response_context(std::move(completed).error(), response, kOperation, resource);
  PutResult result;
  result.etag = std::move(completed->etag);
  result.version_id = detail::header_or_empty(response, "x-amz-version-id");
  if (options.checksum_sha256) {
    result.checksum_sha256 = !completed->checksum_sha256.empty() ? std::move(completed->checksum_sha256)
                                                                 : composite_checksum(parts);
  }
  return result;
}

std::optional<PutResult> S3Client::completed_object_matches(std::string_view bucket, std::string_view key,
                                                            std::span<const UploadedPart> parts,
                                                            const PutOptions& options) {
  Result<ObjectHead> head = head_object(bucket, key, options.expected_bucket_owner);
  if (!head.ok()) return std::nullopt;
  std::uint64_t size = 0;
  for (const UploadedPart& p : parts) size += p.size;
  if (head->size != size) return std::nullopt;
  const std::string composite = options.checksum_sha256 ? composite_checksum(parts) : std::string();
  if (head->checksum_sha256 && !composite.empty() && *head->checksum_sha256 != composite) return std::nullopt;
  // S3's multipart ETag is the MD5 of the parts' MD5s, "-N": check it when the server gives one.
  if (head->etag.find('-') != std::string::npos) {
    std::string raw;
    for (const UploadedPart& p : parts) {
      if (p.etag.size() != 32) return std::nullopt;  // not an MD5 (e.g. SSE-KMS parts): cannot tell
      for (std::size_t i = 0; i < p.etag.size(); i += 2) {
        unsigned byte = 0;
        const char* first = p.etag.data() + i;
        if (std::from_chars(first, first + 2, byte, 16).ptr != first + 2) return std::nullopt;
        raw += static_cast<char>(byte);
      }
    }
    if (head->etag != fmt::format("{}-{}", hex_encode(md5(raw)), parts.size())) return std::nullopt;
  } else if (!head->checksum_sha256) {
    return std::nullopt;  // nothing but the size to go by: not enough to call it ours
  }
  PutResult result;
  result.etag = head->etag;
  result.checksum_sha256 = head->checksum_sha256.value_or(composite);
  return result;
}

Status S3Client::abort_multipart_upload(std::string_view bucket, std::string_view key,
                                        std::string_view upload_id, std::string_view expected_owner) {
  static constexpr std::string_view kOperation = "S3.AbortMultipartUpload";
  ES_TRY(detail::check_names(kOperation, bucket, key));
  // Clean-up: after the run's deadline stopped the upload, the abort still goes out.
  const Deadline::CleanupScope cleanup;
  HttpRequest request;
  request.method = "DELETE";
  request.url = s3_url(caller_.context().endpoint, bucket, key,
                       std::array{QueryParam{"uploadId", std::string(upload_id)}});
  detail::add_owner_header(request.headers, expected_owner);
  Result<HttpResponse> response = send(kOperation, resource_of(bucket, key), request, expected_owner);
  if (response.ok() || response.error().code == "NoSuchUpload") return ok_status();
  return std::move(response).error();
}

Result<PutResult> S3Client::upload(std::string_view bucket, std::string_view key, std::string_view body,
                                   const PutOptions& options, std::size_t multipart_threshold,
                                   std::size_t part_size) {
  if (part_size < kMinPartSize) {
    return Error::invalid_argument(resource_of(bucket, key),
                                   fmt::format("the part size {} is below S3's minimum of 5 MiB", part_size))
        .with_context("S3.Upload");
  }
  if (body.empty() || (body.size() <= multipart_threshold && body.size() <= kMaxSinglePutSize)) {
    return put_object(bucket, key, body, options);
  }
  return upload_multipart(bucket, key, body, options, part_size);
}

Result<PutResult> S3Client::upload_multipart(std::string_view bucket, std::string_view key,
                                             std::string_view body, const PutOptions& options,
                                             std::size_t part_size) {
  // S3 allows 10,000 parts: grow the parts rather than fail on a very large body.
  part_size = std::max(part_size, (body.size() + kMaxParts - 1) / kMaxParts);
  ES_ASSIGN_OR_RETURN(const std::string upload_id, create_multipart_upload(bucket, key, options));

  auto abort_after = [&](Error error) -> Error {
    Status aborted = abort_multipart_upload(bucket, key, upload_id, options.expected_bucket_owner);
    if (!aborted.ok()) {
      // The parts stay billed until a lifecycle rule (AbortIncompleteMultipartUpload) removes them.
      log::warn("s3.multipart_abort_failed", {{"bucket", bucket},
                                              {"key", key},
                                              {"upload_id", upload_id},
                                              {"error", aborted.error().to_string()}});
    }
    return error;
  };

  std::vector<UploadedPart> parts;
  parts.reserve((body.size() + part_size - 1) / part_size);
  for (std::size_t offset = 0; offset < body.size(); offset += part_size) {
    const std::string_view chunk = body.substr(offset, part_size);
    Result<UploadedPart> part =
        upload_part(bucket, key, upload_id, static_cast<int>(parts.size() + 1), chunk, options);
    if (!part.ok()) return abort_after(std::move(part).error());
    parts.push_back(std::move(part).value());
  }
  Result<PutResult> result = complete_multipart_upload(bucket, key, upload_id, parts, options);
  if (!result.ok()) return abort_after(std::move(result).error());
  return result;
}

}  // namespace es::s3
