#pragma once
/// The pipeline's view of DynamoDB and S3: two small interfaces, so that the exporter runs against
/// the real clients, the local servers and in-memory fakes alike. One instance per worker thread.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http.h"
#include "core/config.h"
#include "core/deadline.h"
#include "core/env.h"
#include "core/result.h"
#include "dynamodb/dynamodb_client.h"
#include "s3/s3_client.h"
#include "s3/s3_types.h"

namespace es::exporter {

class EventTable {
 public:
  virtual ~EventTable() = default;
  [[nodiscard]] virtual Result<dynamodb::Page> scan(const dynamodb::ScanRequest& request) = 0;
  [[nodiscard]] virtual Result<dynamodb::Page> query(const dynamodb::QueryRequest& request) = 0;
  /// Requests and retries so far (for metrics).
  [[nodiscard]] virtual aws::CallStats stats() const { return {}; }
};

/// Room a streamed upload's part buffer keeps past one part, for the write that fills it.
inline constexpr std::size_t kPartChunkRoom = 256 << 10;

/// An object written in pieces: small objects go up with one PutObject at finish(), larger ones by
/// multipart upload as the bytes arrive, so memory holds at most about one part.
class ObjectUpload {
 public:
  virtual ~ObjectUpload() = default;
  [[nodiscard]] virtual Status write(std::string_view bytes) = 0;
  /// Completes the object. On any error the upload is aborted (no partial object is left).
  [[nodiscard]] virtual Result<s3::PutResult> finish() = 0;
  /// Before the first write: a buffer to collect the parts in, whose pages an earlier upload has
  /// faulted in already. A hint: an upload may ignore it.
  virtual void lend_buffer(std::string buffer) { static_cast<void>(buffer); }
  /// After finish() (or instead of it): the buffer the parts were collected in, for a later upload.
  [[nodiscard]] virtual std::string take_buffer() { return {}; }
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  /// Uploads body (single PUT or multipart, as the store decides from its size).
  [[nodiscard]] virtual Result<s3::PutResult> put(std::string_view bucket, std::string_view key,
                                                  std::string_view body, const s3::PutOptions& options) = 0;
  /// Uploads the object source produces while it is sent (see aws::BodySource), so that it is never
  /// held in memory whole; options.precomputed_sha256 is required. The default reads it into memory
  /// and calls put() (for stores that need the bytes, and objects beyond one PutObject).
  [[nodiscard]] virtual Result<s3::PutResult> put_from(std::string_view bucket, std::string_view key,
                                                       aws::BodySource& source,
                                                       const s3::PutOptions& options) {
    ES_ASSIGN_OR_RETURN(const std::string body, aws::read_body(source));
    return put(bucket, key, body, options);
  }
  /// Starts an object written in pieces (see ObjectUpload). options.precomputed_sha256 is ignored.
  [[nodiscard]] virtual Result<std::unique_ptr<ObjectUpload>> begin_upload(std::string_view bucket,
                                                                           std::string_view key,
                                                                           const s3::PutOptions& options) = 0;
  /// The object's bytes, or kNotFound.
  [[nodiscard]] virtual Result<s3::GetResult> get(std::string_view bucket, std::string_view key) = 0;
  /// Bytes [first, last] of the object (a ranged GET), or kNotFound.
  [[nodiscard]] virtual Result<std::string> get_range(std::string_view bucket, std::string_view key,
                                                      std::uint64_t first, std::uint64_t last) = 0;
  /// Every key under prefix, in key order.
  [[nodiscard]] virtual Result<std::vector<std::string>> list(std::string_view bucket,
                                                              std::string_view prefix) = 0;
  /// Deletes keys (missing keys are fine); any key that could not be deleted is an error.
  [[nodiscard]] virtual Status remove(std::string_view bucket, const std::vector<std::string>& keys) = 0;
  /// Deletes one object, only while its ETag is if_match (S3 conditional delete): kConflict when it
  /// has another, kNotFound when it is gone. put() with PutOptions::if_none_match / if_match is the
  /// conditional write. The default deletes without the condition (for stores that cannot).
  [[nodiscard]] virtual Status remove_if_match(std::string_view bucket, std::string_view key,
                                               std::string_view if_match) {
    static_cast<void>(if_match);
    return remove(bucket, {std::string(key)});
  }
  [[nodiscard]] virtual aws::CallStats stats() const { return {}; }
};

/// Makes one EventTable / ObjectStore per worker thread.
struct Ports {
  std::function<Result<std::unique_ptr<EventTable>>()> make_table;
  std::function<Result<std::unique_ptr<ObjectStore>>()> make_store;
};

struct AwsPortsOptions {
  std::size_t multipart_threshold = 64ULL << 20;
  std::size_t part_size = 16ULL << 20;
  int max_attempts = 8;
  bool insecure_tls = false;
  std::string ca_bundle;
  /// x-amz-expected-bucket-owner of every S3 request: ops_bucket_owner for ops_bucket, else
  /// client_bucket_owner ("" sends none). The store sets it on every call, whatever the options
  /// a caller passes, so that no request kind can go without it.
  std::string ops_bucket;
  std::string ops_bucket_owner;
  std::string client_bucket_owner;
  /// The run's deadline, seen by every DynamoDB and S3 call (core/deadline.h); null: none.
  std::shared_ptr<const Deadline> deadline;
};

/// The options config asks for (multipart sizes, attempts, TLS).
[[nodiscard]] AwsPortsOptions port_options_for(const ExportConfig& config);

/// An ObjectStore over client (what make_aws_ports' stores are; tests give it a scripted client).
[[nodiscard]] std::unique_ptr<ObjectStore> make_s3_store(s3::S3Client client, const AwsPortsOptions& options);

/// Ports backed by DynamoDbClient and S3Client, configured from env (endpoints, region,
/// credentials chain). Validates endpoints without any network call.
[[nodiscard]] Result<Ports> make_aws_ports(const EnvLookup& env, const AwsPortsOptions& options);

}  // namespace es::exporter
