#include <utility>

#include <fmt/format.h>

#include "aws/endpoint.h"
#include "export/ports.h"
#include "s3/s3_client.h"

namespace es::exporter {
namespace {

class DynamoDbTable final : public EventTable {
 public:
  explicit DynamoDbTable(std::unique_ptr<dynamodb::DynamoDbClient> client) : client_(std::move(client)) {}
  Result<dynamodb::Page> scan(const dynamodb::ScanRequest& request) override {
    return client_->scan(request);
  }
  Result<dynamodb::Page> query(const dynamodb::QueryRequest& request) override {
    return client_->query(request);
  }
  aws::CallStats stats() const override { return client_->stats(); }

 private:
  std::unique_ptr<dynamodb::DynamoDbClient> client_;
};

class S3Upload final : public ObjectUpload {
 public:
  S3Upload(s3::S3Client& client, std::string bucket, std::string key, s3::PutOptions options,
           std::size_t threshold, std::size_t part_size)
      : client_(client),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        options_(std::move(options)),
        threshold_(threshold),
        part_size_(std::max(part_size, s3::kMinPartSize)) {
    options_.precomputed_sha256.clear();
  }
  ~S3Upload() override {
    if (!upload_id_.empty() && !finished_)
      static_cast<void>(
          client_.abort_multipart_upload(bucket_, key_, upload_id_, options_.expected_bucket_owner));
  }
  S3Upload(const S3Upload&) = delete;
  S3Upload& operator=(const S3Upload&) = delete;

  void lend_buffer(std::string buffer) override {
    if (!buffer_.empty()) return;
    buffer.clear();
    buffer_ = std::move(buffer);
  }
  std::string take_buffer() override { return std::exchange(buffer_, std::string()); }

  Status write(std::string_view bytes) override {
    // Room for a part and the chunk that fills it, once: grown by doubling, the buffer was copied
    // and faulted in anew up to 32 MB for every streamed object. Unused capacity is not memory.
    if (buffer_.capacity() < part_size_ + kPartChunkRoom) buffer_.reserve(part_size_ + kPartChunkRoom);
    buffer_.append(bytes);
    if (upload_id_.empty() && buffer_.size() <= threshold_) return ok_status();
    if (upload_id_.empty()) {
      ES_ASSIGN_OR_RETURN(upload_id_, client_.create_multipart_upload(bucket_, key_, options_));
    }
    while (buffer_.size() >= part_size_) {
      ES_TRY(send_part(std::string_view(buffer_).substr(0, part_size_)));
      buffer_.erase(0, part_size_);
    }
    return ok_status();
  }

  Result<s3::PutResult> finish() override {
    if (upload_id_.empty()) {
      finished_ = true;
      return client_.put_object(bucket_, key_, buffer_, options_);
    }
    if (!buffer_.empty() || parts_.empty()) ES_TRY(send_part(buffer_));
    auto done = client_.complete_multipart_upload(bucket_, key_, upload_id_, parts_, options_);
    if (done.ok()) finished_ = true;
    return done;
  }

 private:
  Status send_part(std::string_view body) {
    ES_ASSIGN_OR_RETURN(
        s3::UploadedPart part,
        client_.upload_part(bucket_, key_, upload_id_, static_cast<int>(parts_.size() + 1), body, options_));
    parts_.push_back(std::move(part));
    return ok_status();
  }

  s3::S3Client& client_;
  std::string bucket_;
  std::string key_;
  s3::PutOptions options_;
  std::size_t threshold_;
  std::size_t part_size_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<s3::UploadedPart> parts_;
  bool finished_ = false;
};

class S3Store final : public ObjectStore {
 public:
  S3Store(s3::S3Client client, AwsPortsOptions options)
      : client_(std::move(client)),
        threshold_(options.multipart_threshold),
        part_size_(options.part_size),
        options_(std::move(options)) {}
  Result<s3::PutResult> put(std::string_view bucket, std::string_view key, std::string_view body,
                            const s3::PutOptions& options) override {
    return client_.upload(bucket, key, body, owned(bucket, options), threshold_, part_size_);
  }
  Result<s3::PutResult> put_from(std::string_view bucket, std::string_view key, aws::BodySource& source,
                                 const s3::PutOptions& options) override {
    // Beyond one PutObject the object goes as a multipart upload of parts held in memory.
    if (source.size() > threshold_) return ObjectStore::put_from(bucket, key, source, options);
    return client_.put_object(bucket, key, source, owned(bucket, options));
  }
  Result<std::unique_ptr<ObjectUpload>> begin_upload(std::string_view bucket, std::string_view key,
                                                     const s3::PutOptions& options) override {
    return std::unique_ptr<ObjectUpload>(std::make_unique<S3Upload>(
        // A streamed object switches to multipart as soon as one part is full, so it never holds
        // more than a part in memory (the 64 MB single-PUT threshold would, for a spilled client).
        client_, std::string(bucket), std::string(key), owned(bucket, options),
        std::min(threshold_, part_size_), part_size_));
  }
  Result<s3::GetResult> get(std::string_view bucket, std::string_view key) override {
    s3::GetOptions options;
    options.expected_bucket_owner = owner(bucket);
    return client_.get_object(bucket, key, options);
  }
  Result<std::string> get_range(std::string_view bucket, std::string_view key, std::uint64_t first,
                                std::uint64_t last) override {
    s3::GetOptions options;
    options.expected_bucket_owner = owner(bucket);
    options.range = s3::ByteRange{first, last};
    ES_ASSIGN_OR_RETURN(s3::GetResult got, client_.get_object(bucket, key, options));
    if (got.body.size() != last - first + 1) {
      return Error::invalid_data(
                 fmt::format("{}/{}", bucket, key),
                 fmt::format("asked for bytes {}-{}, got {} bytes", first, last, got.body.size()))
          .with_context("S3.GetObject");
    }
    return std::move(got.body);
  }
  Result<std::vector<std::string>> list(std::string_view bucket, std::string_view prefix) override {
    ES_ASSIGN_OR_RETURN(std::vector<s3::ObjectInfo> objects, client_.list_all(bucket, prefix, owner(bucket)));
    std::vector<std::string> keys;
    keys.reserve(objects.size());
    for (auto& o : objects) keys.push_back(std::move(o.key));
    return keys;
  }
  Status remove(std::string_view bucket, const std::vector<std::string>& keys) override {
    constexpr std::size_t kBatch = 1000;  // DeleteObjects' limit
    for (std::size_t i = 0; i < keys.size(); i += kBatch) {
      const std::span<const std::string> batch(keys.data() + i, std::min(kBatch, keys.size() - i));
      ES_ASSIGN_OR_RETURN(s3::DeleteObjectsResult done, client_.delete_objects(bucket, batch, owner(bucket)));
      if (!done.errors.empty()) return std::move(done.errors.front());
    }
    return ok_status();
  }
  Status remove_if_match(std::string_view bucket, std::string_view key, std::string_view if_match) override {
    return client_.delete_object(bucket, key, owner(bucket), if_match);
  }
  aws::CallStats stats() const override { return client_.stats(); }

 private:
  [[nodiscard]] const std::string& owner(std::string_view bucket) const {
    return bucket == options_.ops_bucket ? options_.ops_bucket_owner : options_.client_bucket_owner;
  }
  /// options with the bucket's owner: the configuration decides it, not each caller.
  [[nodiscard]] s3::PutOptions owned(std::string_view bucket, const s3::PutOptions& options) const {
    s3::PutOptions o = options;
    o.expected_bucket_owner = owner(bucket);
    return o;
  }

  s3::S3Client client_;
  std::size_t threshold_;
  std::size_t part_size_;
  AwsPortsOptions options_;
};

}  // namespace

std::unique_ptr<ObjectStore> make_s3_store(s3::S3Client client, const AwsPortsOptions& options) {
  return std::make_unique<S3Store>(std::move(client), options);
}

AwsPortsOptions port_options_for(const ExportConfig& config) {
  AwsPortsOptions o;
  o.multipart_threshold = config.multipart_threshold_bytes;
  o.part_size = config.part_size_bytes;
  o.max_attempts = config.max_attempts;
  o.insecure_tls = config.insecure_tls;
  o.ca_bundle = config.ca_bundle;
  o.ops_bucket = config.ops_bucket;
  o.ops_bucket_owner = config.ops_bucket_owner;
  o.client_bucket_owner = config.expected_bucket_owner;
  return o;
}

Result<Ports> make_aws_ports(const EnvLookup& env, const AwsPortsOptions& options) {
  const std::string region = aws::resolve_region(env);
  ES_ASSIGN_OR_RETURN(aws::Endpoint ddb_endpoint, aws::resolve_endpoint("dynamodb", env, region));
  ES_ASSIGN_OR_RETURN(aws::Endpoint s3_endpoint, aws::resolve_endpoint("s3", env, region));

  aws::HttpOptions http;
  http.verify_tls = !options.insecure_tls;
  http.ca_bundle = options.ca_bundle;
  aws::HttpOptions metadata_http = http;
  metadata_http.connect_timeout = std::chrono::milliseconds(1000);
  metadata_http.request_timeout = std::chrono::milliseconds(3000);
  auto credentials = aws::make_default_credentials_chain(
      env, [metadata_http] { return aws::make_curl_http_client(metadata_http); });
  aws::StandardRetryOptions retry_options;
  retry_options.max_attempts = options.max_attempts;
  std::shared_ptr<const aws::RetryPolicy> retry = aws::make_standard_retry_policy(retry_options);

  auto ddb = std::make_shared<aws::ServiceContext>();
  ddb->endpoint = ddb_endpoint;
  ddb->signing = aws::SigningParams{region, "dynamodb", false};
  ddb->credentials = credentials;
  ddb->retry = retry;
  ddb->sleeper = aws::real_sleeper();
  ddb->deadline = options.deadline;

  auto s3 = std::make_shared<aws::ServiceContext>(*ddb);
  s3->endpoint = s3_endpoint;
  s3->signing = aws::SigningParams{region, "s3", true};

  Ports ports;
  ports.make_table = [ddb, http]() -> Result<std::unique_ptr<EventTable>> {
    return std::unique_ptr<EventTable>(std::make_unique<DynamoDbTable>(
        std::make_unique<dynamodb::DynamoDbClient>(ddb, aws::make_curl_http_client(http))));
  };
  ports.make_store = [s3, http, options]() -> Result<std::unique_ptr<ObjectStore>> {
    ES_ASSIGN_OR_RETURN(s3::S3Client client, s3::S3Client::make(s3, aws::make_curl_http_client(http)));
    return make_s3_store(std::move(client), options);
  };
  return ports;
}

}  // namespace es::exporter
