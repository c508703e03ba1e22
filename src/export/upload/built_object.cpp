// The object built in memory: a client without runs whose object is compressed, csv or beyond one
// PutObject. Encoded into a pooled buffer (its events freed as soon as it is encoded), then put; the
// buffer and its share of the upload budget are held until the writer is destroyed.

#include <string>
#include <string_view>
#include <vector>

#include "core/encode.h"
#include "core/hash.h"
#include "export/put_options.h"
#include "export/upload/object_writer.h"

namespace es::exporter {
namespace {

class BuiltObject final : public ObjectWriter {
 public:
  BuiltObject(const UploadContext& context, ClientJob& job, ObjectStore* store)
      : context_(context), job_(job), store_(store) {}
  BuiltObject(const BuiltObject&) = delete;
  BuiltObject& operator=(const BuiltObject&) = delete;
  ~BuiltObject() override {
    if (holds_object_) {
      context_.buffers.give(std::move(object_));
      context_.budget.release(granted_);
    }
    free_events();
  }

  Result<s3::PutOptions> prepare() override {
    const ExportConfig& config = context_.config;
    events_ = sorted_memory_events(job_);
    ManifestObject& m = job_.result;
    m.client = job_.client;
    m.bucket = config.client_bucket(job_.client);
    m.key = context_.key;
    m.events = events_.size();
    m.min_time_us = events_.front().time_us;
    m.max_time_us = events_.back().time_us;

    const std::uint64_t bound = object_bound(job_);
    bodies_.reserve(events_.size());
    for (const StoredEvent& e : events_) bodies_.push_back(e.body());
    granted_ = context_.budget.acquire(bound);
    object_ = context_.buffers.take(config.compression == Compression::kNone ? bound : 1 << 20);
    holds_object_ = true;
    StringSink sink(object_);
    Status encoded = encode_object(config.format, config.compression, bodies_, sink);
    // The events are in the object now (or failed to encode): free them before uploading.
    free_events();
    if (!encoded.ok()) return std::move(encoded).error();
    const Sha256Digest digest = sha256(object_);
    m.bytes = object_.size();
    m.sha256 = hex_encode(digest);
    m.status = ObjectStatus::kDelivered;
    return object_put_options(config, context_.window, m.events, digest);
  }

  Status send(std::string_view bucket, std::string_view key, const s3::PutOptions& options) override {
    auto put = store_->put(bucket, key, object_, options);
    if (!put.ok()) return std::move(put).error();
    return ok_status();
  }

  [[nodiscard]] bool source_failed() const override { return false; }

 private:
  void free_events() {
    bodies_ = {};
    events_ = {};
    for (ClientEvents* part : job_.parts) part->clear();
  }

  const UploadContext& context_;
  ClientJob& job_;
  ObjectStore* store_;
  std::vector<StoredEvent> events_;
  std::vector<std::string_view> bodies_;
  std::string object_;
  bool holds_object_ = false;
  std::uint64_t granted_ = 0;
};

}  // namespace

std::unique_ptr<ObjectWriter> make_built_object(const UploadContext& context, ClientJob& job,
                                                ObjectStore* store) {
  return std::make_unique<BuiltObject>(context, job, store);
}

}  // namespace es::exporter
