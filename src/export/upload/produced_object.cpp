// The object produced while it is sent: uncompressed json or ndjson within one PutObject, whose
// events are in memory or merged with runs in local files. It is never built: a first pass over its
// events hashes and measures it (hash_object), then each attempt to send it produces its bytes again
// into the request (EventsBody).

#include <optional>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "export/put_options.h"
#include "export/upload/event_source.h"
#include "export/upload/events_body.h"
#include "export/upload/object_writer.h"

namespace es::exporter {
namespace {

class ProducedObject final : public ObjectWriter {
 public:
  ProducedObject(const UploadContext& context, ClientJob& job, ObjectStore* store)
      : context_(context), job_(job), store_(store) {}
  ProducedObject(const ProducedObject&) = delete;
  ProducedObject& operator=(const ProducedObject&) = delete;
  ~ProducedObject() override {
    body_.reset();
    source_.reset();
    memory_ = {};
    for (ClientEvents* part : job_.parts) part->clear();
    if (holds_budget_) context_.budget.release(granted_);
  }

  Result<s3::PutOptions> prepare() override {
    const ExportConfig& config = context_.config;
    if (!job_.runs.empty()) {
      // A read buffer per run (one merge at a time).
      granted_ = context_.budget.acquire(job_.runs.size() * context_.run_buffer_bytes);
      holds_budget_ = true;
    }
    memory_ = sorted_memory_events(job_);
    ManifestObject& m = job_.result;
    m.client = job_.client;
    m.bucket = config.client_bucket(job_.client);
    m.key = context_.key;
    if (job_.runs.empty()) {
      source_ = std::make_unique<SortedEvents>(memory_);
    } else {
      source_ = std::make_unique<MergedEvents>(memory_, job_.runs, context_.run_buffer_bytes);
    }
    ES_ASSIGN_OR_RETURN(const ObjectPass pass, hash_object(config.format, *source_));
    m.events = pass.events;
    m.min_time_us = pass.min_time_us;
    m.max_time_us = pass.max_time_us;
    m.bytes = pass.bytes;
    m.sha256 = hex_encode(pass.digest);
    m.status = ObjectStatus::kDelivered;
    if (store_ != nullptr) body_.emplace(config.format, *source_, m.bytes);
    return object_put_options(config, context_.window, m.events, pass.digest);
  }

  Status send(std::string_view bucket, std::string_view key, const s3::PutOptions& options) override {
    auto put = store_->put_from(bucket, key, *body_, options);
    if (!put.ok()) return std::move(put).error();
    return ok_status();
  }

  [[nodiscard]] bool source_failed() const override { return source_->failed(); }

 private:
  const UploadContext& context_;
  ClientJob& job_;
  ObjectStore* store_;
  std::uint64_t granted_ = 0;
  bool holds_budget_ = false;
  std::vector<StoredEvent> memory_;
  std::unique_ptr<EventSource> source_;
  std::optional<EventsBody> body_;
};

}  // namespace

std::unique_ptr<ObjectWriter> make_produced_object(const UploadContext& context, ClientJob& job,
                                                   ObjectStore* store) {
  return std::make_unique<ProducedObject>(context, job, store);
}

}  // namespace es::exporter
