#include <fmt/format.h>

#include "core/hash.h"
#include "s3/s3_addressing.h"
#include "s3/s3_request_internal.h"

namespace es::s3::detail {
namespace {

bool is_metadata_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_printable_ascii(std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}

std::string to_lower(std::string_view in) {
  std::string out(in);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string resource_of(std::string_view bucket, std::string_view key) {
  std::string out(bucket);
  if (!key.empty()) {
    out += '/';
    out += key;
  }
  return out;
}

Status check_names(std::string_view operation, std::string_view bucket, std::string_view key) {
  if (Status s = validate_bucket_name(bucket); !s.ok()) return std::move(s).error().with_context(operation);
  if (key.empty()) return ok_status();
  if (Status s = validate_key(key); !s.ok()) {
    return std::move(s).error().with_context(operation, resource_of(bucket, key));
  }
  return ok_status();
}

Result<PayloadDigests> payload_digests(std::string_view body, std::string_view precomputed_base64) {
  PayloadDigests digests;
  if (precomputed_base64.empty()) {
    const Sha256Digest digest = sha256(body);
    digests.hex = hex_encode(digest);
    digests.base64 = base64_encode(digest);
    return digests;
  }
  std::string raw;
  if (!base64_decode(precomputed_base64, raw) || raw.size() != Sha256Digest{}.size()) {
    return Error::invalid_argument("PutOptions.precomputed_sha256",
                                   "expected the base64 of a 32-byte SHA-256 digest");
  }
  digests.hex = hex_encode(raw);
  digests.base64 = precomputed_base64;
  return digests;
}

Status add_object_headers(aws::Headers& headers, const PutOptions& options) {
  if (!options.content_type.empty()) headers.emplace_back("content-type", options.content_type);
  if (!options.content_encoding.empty()) headers.emplace_back("content-encoding", options.content_encoding);
  switch (options.encryption) {
    case Encryption::kNone:
      break;
    case Encryption::kAes256:
      headers.emplace_back("x-amz-server-side-encryption", "AES256");
      break;
    case Encryption::kKms:
      headers.emplace_back("x-amz-server-side-encryption", "aws:kms");
      if (!options.kms_key_id.empty()) {
        headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", options.kms_key_id);
      }
      break;
  }
  for (const auto& [name, value] : options.metadata) {
    bool valid_name = !name.empty();
    for (char c : name) valid_name = valid_name && is_metadata_name_char(c);
    if (!valid_name) {
      return Error::invalid_argument("metadata " + name,
                                     "a metadata name may contain only letters, digits, '-' and '_'");
    }
    if (!is_printable_ascii(value)) {
      return Error::invalid_argument("metadata " + name, "a metadata value must be printable ASCII");
    }
    // S3 stores metadata names in lower case; sending them so keeps GetObject symmetric.
    headers.emplace_back("x-amz-meta-" + to_lower(name), value);
  }
  add_owner_header(headers, options.expected_bucket_owner);
  return ok_status();
}

void add_payload_headers(aws::Headers& headers, std::uint64_t size, const PayloadDigests& digests,
                         const PutOptions& options, std::string_view body) {
  headers.emplace_back("content-length", std::to_string(size));
  // The payload hash is signed: S3 rejects a body that does not match it (XAmzContentSHA256Mismatch).
  headers.emplace_back("x-amz-content-sha256", digests.hex);
  if (options.checksum_sha256) {
    headers.emplace_back("x-amz-checksum-sha256", digests.base64);
    // What the SDKs send with a flexible checksum; moto stores the checksum only when it is present.
    headers.emplace_back("x-amz-sdk-checksum-algorithm", "SHA256");
  }
  if (options.content_md5) headers.emplace_back("content-md5", base64_encode(md5(body)));
}

void add_condition_headers(aws::Headers& headers, const PutOptions& options) {
  if (options.if_none_match) headers.emplace_back("if-none-match", "*");
  // An entity tag is quoted on the wire (RFC 9110); S3 and moto also take it bare.
  if (!options.if_match.empty()) headers.emplace_back("if-match", fmt::format("\"{}\"", options.if_match));
}

void add_owner_header(aws::Headers& headers, std::string_view owner) {
  if (!owner.empty()) headers.emplace_back("x-amz-expected-bucket-owner", std::string(owner));
}

std::string header_or_empty(const aws::HttpResponse& response, std::string_view lower_name) {
  const std::optional<std::string_view> value = response.header(lower_name);
  return value ? std::string(*value) : std::string();
}

void add_hint(Error& error, std::string_view hint) {
  // Same shape as the hints aws::s3_error appends: "<message>. <Hint>."
  if (!error.message.empty()) {
    if (error.message.back() != '.') error.message += '.';
    error.message += ' ';
  }
  error.message += hint;
  if (!hint.empty() && hint.back() != '.') error.message += '.';
}

void explain(Error& error, std::string_view expected_owner) {
  // aws::s3_error already explains NoSuchBucket, bad or expired credentials and a plain
  // AccessDenied; what it cannot know is added here.
  const std::string& code = error.code;
  if (error.http_status == 404) error.kind = ErrorKind::kNotFound;
  if ((code == "AccessDenied" || error.http_status == 403) && !expected_owner.empty()) {
    error.kind = ErrorKind::kAccessDenied;
    add_hint(error,
             fmt::format("Or the bucket is owned by another account than EAGLESENSE_EXPECTED_BUCKET_OWNER "
                         "({})",
                         expected_owner));
  } else if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
             code == "IllegalLocationConstraintException") {
    add_hint(error,
             "The bucket is in another region than the one configured: set AWS_REGION to the "
             "bucket's region");
  } else if (code == "NoSuchUpload") {
    add_hint(error, "The multipart upload was completed or aborted already");
  } else if (code == "BadDigest" || code == "InvalidDigest" || code == "XAmzContentSHA256Mismatch") {
    error.kind = ErrorKind::kInvalidData;
    add_hint(error, "The body S3 received does not match its checksum: it was altered on the way");
  } else if (code == "PreconditionFailed") {
    add_hint(error,
             "The request's condition did not hold: the object exists already (If-None-Match: *) or "
             "has another ETag (If-Match)");
  } else if (code == "EntityTooSmall") {
    add_hint(error, "Every part but the last must be at least 5 MiB");
  }
}

}  // namespace es::s3::detail
