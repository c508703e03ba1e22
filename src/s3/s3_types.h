#pragma once
/// Values exchanged with S3Client: upload options, results, listings. Plain data, no behaviour.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace es::s3 {

/// Every part of a multipart upload but the last must be at least this large (S3 limit).
inline constexpr std::size_t kMinPartSize = std::size_t{5} * 1024 * 1024;
/// S3 accepts at most this many parts per upload; upload() grows the part size to stay below it.
inline constexpr std::size_t kMaxParts = 10'000;
/// Largest body a single PutObject accepts (5 GiB).
inline constexpr std::size_t kMaxSinglePutSize = std::size_t{5} * 1024 * 1024 * 1024;
/// upload() defaults: single PUT up to 64 MiB, 16 MiB parts above.
inline constexpr std::size_t kDefaultMultipartThreshold = std::size_t{64} * 1024 * 1024;
inline constexpr std::size_t kDefaultPartSize = std::size_t{16} * 1024 * 1024;

/// Server-side encryption asked for on upload.
enum class Encryption {
  kNone,    ///< no header: the bucket's default applies
  kAes256,  ///< x-amz-server-side-encryption: AES256 (SSE-S3)
  kKms,     ///< aws:kms, with PutOptions::kms_key_id when set (else the account's aws/s3 key)
};

/// Headers of a PutObject (and of CreateMultipartUpload/UploadPart/CompleteMultipartUpload where
/// they apply).
struct PutOptions {
  std::string content_type = "application/octet-stream";
  std::string content_encoding;  ///< e.g. "gzip"; empty: no header
  /// Sends x-amz-checksum-sha256 so that S3 verifies the body (per part for multipart uploads).
  bool checksum_sha256 = true;
  /// Base64 SHA-256 of the whole body when the caller already computed it (saves a pass over the
  /// data); empty: computed here. Ignored by upload_part, which hashes each part.
  std::string precomputed_sha256;
  /// Also sends Content-MD5 (base64 MD5 of the body, or of each part).
  bool content_md5 = false;
  Encryption encryption = Encryption::kAes256;
  std::string kms_key_id;  ///< with kKms: key id or ARN; empty: the AWS managed key
  /// User metadata, sent as x-amz-meta-<name>. Names: letters, digits, '-' and '_' (lower-cased by
  /// S3); values: printable ASCII.
  std::map<std::string, std::string> metadata;
  /// x-amz-expected-bucket-owner: S3 answers 403 when the bucket belongs to another account.
  std::string expected_bucket_owner;
  /// If-None-Match: * (on PutObject and CompleteMultipartUpload): fail with 412 instead of
  /// overwriting an existing object.
  bool if_none_match = false;
  /// If-Match: "<etag>" (on PutObject and CompleteMultipartUpload): overwrite only the object with
  /// this ETag (without quotes); 412 when it has another, 404 when the key does not exist.
  std::string if_match;
};

/// What S3 answered to a completed upload.
struct PutResult {
  std::string etag;        ///< without surrounding quotes
  std::string version_id;  ///< empty when the bucket is not versioned
  /// Base64 SHA-256 of the body for a single PUT; for a multipart upload the composite checksum
  /// "<base64 sha256 of the part digests>-<part count>", as S3 reports it. Empty when
  /// PutOptions::checksum_sha256 was false.
  std::string checksum_sha256;
};

/// One uploaded part, as CompleteMultipartUpload needs it.
struct UploadedPart {
  int part_number = 0;          ///< 1..10000
  std::string etag;             ///< without surrounding quotes
  std::string checksum_sha256;  ///< base64; empty when not sent
  std::uint64_t size = 0;       ///< bytes of the part
};

/// What HeadObject tells about an object.
struct ObjectHead {
  std::uint64_t size = 0;
  std::string etag;                            ///< without surrounding quotes
  std::optional<std::string> checksum_sha256;  ///< base64 or composite "...-N", when stored
};

/// Inclusive byte range of a GetObject (HTTP Range: bytes=first-last).
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

struct GetOptions {
  std::optional<ByteRange> range;
  std::string expected_bucket_owner;
  /// Sends x-amz-checksum-mode: ENABLED so that S3 returns the stored checksum; a full-object
  /// SHA-256 returned with a whole-object read is verified against the body.
  bool checksum_mode = true;
  /// The largest body accepted (HttpRequest::max_body_bytes); 0: a ranged GET accepts its range's
  /// length, a whole GET any size (the caller reads an object whole because it needs all of it:
  /// manifests, copies set aside, staged parts).
  std::uint64_t max_body_bytes = 0;
};

struct GetResult {
  std::string body;
  std::map<std::string, std::string> metadata;  ///< x-amz-meta-* without the prefix (lower case)
  std::string etag;                             ///< without surrounding quotes
  std::string content_type;
  std::string content_encoding;
  std::string version_id;
  std::string last_modified;                   ///< HTTP date, as returned
  std::optional<std::string> checksum_sha256;  ///< base64 (or composite "...-N"), if returned
};

/// One object of a listing.
struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;           ///< without surrounding quotes
  std::string last_modified;  ///< ISO-8601, as returned
};

/// One page of ListObjectsV2.
struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next_continuation_token;  ///< empty on the last page
  bool is_truncated = false;
};

/// Result of a DeleteObjects batch: keys deleted and one Error per key that failed.
struct DeleteObjectsResult {
  std::vector<std::string> deleted;
  std::vector<Error> errors;
};

}  // namespace es::s3
