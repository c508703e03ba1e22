#pragma once
/// S3Client: the S3 operations EagleSense needs (buckets, PutObject, multipart uploads, GetObject,
/// ListObjectsV2, deletes) on top of es::aws::AwsCaller, which signs, sends and retries.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aws/caller.h"
#include "aws/http.h"
#include "core/result.h"
#include "s3/s3_types.h"

namespace es::s3 {

/// One client per worker thread: it owns an HttpClient (one keep-alive connection), which is not
/// thread-safe. The ServiceContext (endpoint, signing "s3" with s3_rules, credentials, retry policy)
/// is shared read-only between clients.
///
/// Every Error names the operation ("S3.PutObject"), the resource ("bucket/key" or "bucket"), the
/// HTTP status, the S3 error code and the x-amz-request-id, and, where the fix is obvious, says
/// what to do. Object keys are URI-encoded with '/' kept; nothing is normalized.
class S3Client {
 public:
  /// Checks that context signs for "s3" with S3's rules and has credentials and a retry policy;
  /// kInvalidArgument otherwise. No network call is made.
  [[nodiscard]] static Result<S3Client> make(std::shared_ptr<const aws::ServiceContext> context,
                                             std::unique_ptr<aws::HttpClient> http);

  /// HeadBucket. kNotFound (code NoSuchBucket) when the bucket does not exist, kAccessDenied on 403,
  /// which with expected_owner set also means "owned by another account".
  [[nodiscard]] Status head_bucket(std::string_view bucket, std::string_view expected_owner = {});

  /// HeadObject with x-amz-checksum-mode: ENABLED. kNotFound when the key does not exist.
  [[nodiscard]] Result<ObjectHead> head_object(std::string_view bucket, std::string_view key,
                                               std::string_view expected_owner = {});

  /// CreateBucket in the context's region (LocationConstraint outside us-east-1). A bucket that
  /// already exists and is ours (BucketAlreadyOwnedByYou) is a success.
  [[nodiscard]] Status create_bucket(std::string_view bucket);

  /// PutObject of body with a Content-Length (never aws-chunked). body must stay alive for the call.
  /// options.if_none_match / if_match make it conditional: a condition that does not hold is
  /// kConflict (code PreconditionFailed), never retried.
  [[nodiscard]] Result<PutResult> put_object(std::string_view bucket, std::string_view key,
                                             std::string_view body, const PutOptions& options = {});
  /// PutObject of the bytes source produces while they are sent, so the object is never held in
  /// memory. options.precomputed_sha256 is required (the payload hash is signed before the body is
  /// read) and Content-MD5 is not available: kInvalidArgument otherwise.
  [[nodiscard]] Result<PutResult> put_object(std::string_view bucket, std::string_view key,
                                             aws::BodySource& source, const PutOptions& options);

  /// CreateMultipartUpload with the headers of a PUT (content type/encoding, SSE, metadata, owner)
  /// and x-amz-checksum-algorithm: SHA256 when options.checksum_sha256. Returns the upload id.
  [[nodiscard]] Result<std::string> create_multipart_upload(std::string_view bucket, std::string_view key,
                                                            const PutOptions& options = {});

  /// UploadPart number part_number (1..10000) with its own x-amz-checksum-sha256 (and Content-MD5
  /// when options.content_md5). Of options only the checksum switches and the owner are used.
  [[nodiscard]] Result<UploadedPart> upload_part(std::string_view bucket, std::string_view key,
                                                 std::string_view upload_id, int part_number,
                                                 std::string_view body, const PutOptions& options = {});

  /// CompleteMultipartUpload with parts in order. A 200 whose body is an <Error> document is a
  /// failure (S3 reports late errors that way). checksum_sha256 of the result is the composite
  /// checksum "...-N" (computed from the parts when the server does not return it).
  [[nodiscard]] Result<PutResult> complete_multipart_upload(std::string_view bucket, std::string_view key,
                                                            std::string_view upload_id,
                                                            std::span<const UploadedPart> parts,
                                                            const PutOptions& options = {});

  /// AbortMultipartUpload (frees the stored parts). An upload already gone (NoSuchUpload) is a success.
  [[nodiscard]] Status abort_multipart_upload(std::string_view bucket, std::string_view key,
                                              std::string_view upload_id,
                                              std::string_view expected_owner = {});

  /// Uploads body with one PutObject when body.size() <= multipart_threshold, else as a multipart
  /// upload of part_size parts (the last may be smaller; part_size grows when 10,000 parts would not
  /// suffice). A failed multipart upload is aborted before the error is returned.
  /// kInvalidArgument when part_size < kMinPartSize.
  [[nodiscard]] Result<PutResult> upload(std::string_view bucket, std::string_view key, std::string_view body,
                                         const PutOptions& options = {},
                                         std::size_t multipart_threshold = kDefaultMultipartThreshold,
                                         std::size_t part_size = kDefaultPartSize);

  /// GetObject (whole, or options.range). kNotFound with code NoSuchKey when the key does not exist,
  /// NoSuchBucket when the bucket does not. A returned full-object SHA-256 is verified (kInvalidData).
  [[nodiscard]] Result<GetResult> get_object(std::string_view bucket, std::string_view key,
                                             const GetOptions& options = {});

  /// One ListObjectsV2 page of at most max_keys (1..1000) keys under prefix, after continuation_token.
  [[nodiscard]] Result<ListPage> list_objects_v2(std::string_view bucket, std::string_view prefix = {},
                                                 std::string_view continuation_token = {},
                                                 int max_keys = 1000, std::string_view expected_owner = {});

  /// Every object under prefix, following continuation tokens, in key order.
  [[nodiscard]] Result<std::vector<ObjectInfo>> list_all(std::string_view bucket,
                                                         std::string_view prefix = {},
                                                         std::string_view expected_owner = {});

  /// DeleteObject. Deleting a key that does not exist is a success (as in S3). With if_match (an
  /// ETag without quotes) only the object with that ETag is deleted: kConflict (412
  /// PreconditionFailed) when it has another, kNotFound when the key does not exist.
  [[nodiscard]] Status delete_object(std::string_view bucket, std::string_view key,
                                     std::string_view expected_owner = {}, std::string_view if_match = {});

  /// DeleteObjects of up to 1000 keys in one request; per-key failures come back in the result.
  [[nodiscard]] Result<DeleteObjectsResult> delete_objects(std::string_view bucket,
                                                           std::span<const std::string> keys,
                                                           std::string_view expected_owner = {});

  /// Requests, retries and throttles so far.
  [[nodiscard]] const aws::CallStats& stats() const { return caller_.stats(); }

 private:
  explicit S3Client(aws::AwsCaller caller) : caller_(std::move(caller)) {}

  /// PutObject of body, or of what source produces when it is not null.
  Result<PutResult> put(std::string_view bucket, std::string_view key, std::string_view body,
                        aws::BodySource* source, const PutOptions& options);

  /// Sends request through the caller; check_error_body treats a 2xx <Error> document as a failure.
  Result<aws::HttpResponse> send(std::string_view operation, std::string_view resource,
                                 const aws::HttpRequest& request, std::string_view expected_owner,
                                 bool check_error_body = false);
  /// After a CompleteMultipartUpload whose answer was lost: the PutResult when the key holds exactly
  /// the object these parts make (size, checksum, multipart ETag), else nullopt.
  std::optional<PutResult> completed_object_matches(std::string_view bucket, std::string_view key,
                                                    std::span<const UploadedPart> parts,
                                                    const PutOptions& options);
  Result<PutResult> upload_multipart(std::string_view bucket, std::string_view key, std::string_view body,
                                     const PutOptions& options, std::size_t part_size);

  aws::AwsCaller caller_;
};

}  // namespace es::s3
