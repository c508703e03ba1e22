#pragma once
/// S3's XML documents: parsing responses (ListObjectsV2, multipart, DeleteObjects, <Error> in a
/// 200) and writing request bodies. pugixml underneath, kept out of this interface.

#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "s3/s3_types.h"

namespace es::s3 {

/// The fields of CompleteMultipartUploadResult that a caller keeps.
struct CompletedUpload {
  std::string etag;  ///< without surrounding quotes
  std::string checksum_sha256;
};

/// A ListBucketResult page. Keys are decoded when the document says <EncodingType>url</EncodingType>.
/// kInvalidData when the body is not such a document or a number is malformed.
[[nodiscard]] Result<ListPage> parse_list_objects_v2(std::string_view body);

/// The UploadId of an InitiateMultipartUploadResult; kInvalidData when absent or empty.
[[nodiscard]] Result<std::string> parse_initiate_multipart_upload(std::string_view body);

/// A CompleteMultipartUploadResult (the root's name is not checked: moto calls it
/// CompleteMultipartUploadResponse). An <Error> document is kInvalidData here: callers check
/// is_error_document() first (S3 can answer 200 and then an error).
[[nodiscard]] Result<CompletedUpload> parse_complete_multipart_upload(std::string_view body);

/// A DeleteResult: <Deleted> keys and one Error (code, message, resource "bucket/key") per <Error>.
[[nodiscard]] Result<DeleteObjectsResult> parse_delete_objects(std::string_view body,
                                                               std::string_view bucket);

/// True when body parses as XML whose root element is <Error>.
[[nodiscard]] bool is_error_document(std::string_view body);

/// <CompleteMultipartUpload> with one <Part> (PartNumber, ETag quoted, ChecksumSHA256 when set) per part.
[[nodiscard]] std::string complete_multipart_upload_body(std::span<const UploadedPart> parts);

/// <CreateBucketConfiguration><LocationConstraint>region</...>; empty for us-east-1, which takes no body.
[[nodiscard]] std::string create_bucket_body(std::string_view region);

/// <Delete><Object><Key>..</Key></Object>...</Delete> (not quiet: S3 lists every key it deleted).
[[nodiscard]] std::string delete_objects_body(std::span<const std::string> keys);

/// Removes one pair of surrounding double quotes (ETags are quoted on the wire).
[[nodiscard]] std::string unquote_etag(std::string_view etag);

}  // namespace es::s3
