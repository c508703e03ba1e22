// The object merged into an upload: a client with runs whose object is compressed, csv, beyond one
// PutObject, or whose runs are not local files (staged runs in S3, each refill one ranged GET). Its
// events are merged from memory and its runs straight through the encoder and compressor into a
// streamed (multipart) upload, never held whole; merged again from the same sources for the ops
// bucket when the client's bucket refuses it. Its digest and length are known once it is sent.

#include <string>
#include <string_view>
#include <vector>

#include "core/encode.h"
#include "core/hash.h"
#include "export/put_options.h"
#include "export/upload/object_sink.h"
#include "export/upload/object_writer.h"

namespace es::exporter {
namespace {

class MergedUpload final : public ObjectWriter {
 public:
  MergedUpload(const UploadContext& context, ClientJob& job, ObjectStore* store)
      : context_(context), job_(job), store_(store) {}
  MergedUpload(const MergedUpload&) = delete;
  MergedUpload& operator=(const MergedUpload&) = delete;
  ~MergedUpload() override {
    memory_ = {};
    for (ClientEvents* part : job_.parts) part->clear();
    if (holds_budget_) context_.budget.release(granted_);
  }

  Result<s3::PutOptions> prepare() override {
    const ExportConfig& config = context_.config;
    const std::size_t run_buffer = context_.run_buffer_bytes;
    // A buffer per run (one merge at a time), and the part being filled.
    granted_ = context_.budget.acquire(job_.runs.size() * run_buffer + config.part_size_bytes);
    holds_budget_ = true;
    memory_ = sorted_memory_events(job_);

    if (config.format == OutputFormat::kCsv) {
      CsvColumns collect;
      EventMerger merger(memory_, job_.runs, run_buffer);
      StoredEvent e;
      for (;;) {
        ES_ASSIGN_OR_RETURN(const bool more, merger.next(e));
        if (!more) break;
        ES_TRY(collect.add(e.body()));
      }
      columns_ = collect.take();
    }

    ManifestObject& m = job_.result;
    m.client = job_.client;
    m.bucket = config.client_bucket(job_.client);
    m.key = context_.key;
    m.events = job_.events;
    m.status = ObjectStatus::kDelivered;
    s3::PutOptions options = object_put_options(config, context_.window, job_.events, Sha256Digest{});
    options.precomputed_sha256.clear();
    // A dry run writes the object into nothing, for its digest and length.
    if (store_ == nullptr) ES_TRY(send(m.bucket, m.key, options));
    return options;
  }

  /// Writes the object once to (bucket, key). A failure to read the events (a spill file, a staged
  /// run) is not the destination's fault: it fails the hour instead of making the client
  /// undeliverable.
  Status send(std::string_view bucket, std::string_view key, const s3::PutOptions& options) override {
    ManifestObject& m = job_.result;
    PooledUpload upload;
    if (store_ != nullptr) {
      ES_ASSIGN_OR_RETURN(upload, begin_pooled_upload(*store_, context_.buffers,
                                                      context_.config.part_size_bytes, bucket, key, options));
    }
    ObjectSink sink(upload.get());
    ES_ASSIGN_OR_RETURN(auto compressor, Compressor::make(context_.config.compression, sink));
    EventWriter writer(context_.config.format, *compressor, columns_);
    EventMerger merger(memory_, job_.runs, context_.run_buffer_bytes);
    StoredEvent e;
    std::uint64_t count = 0;
    for (;;) {
      auto more = merger.next(e);
      if (!more.ok()) {
        source_failed_ = true;
        return std::move(more).error();
      }
      if (!*more) break;
      if (count == 0) m.min_time_us = e.time_us;
      m.max_time_us = e.time_us;
      ++count;
      ES_TRY(writer.add(e.body()));
    }
    ES_TRY(writer.finish());
    ES_TRY(compressor->finish());
    if (upload) {
      auto put = upload->finish();
      if (!put.ok()) return std::move(put).error();
    }
    m.events = count;
    m.bytes = sink.size();
    m.sha256 = hex_encode(sink.digest());
    return ok_status();
  }

  [[nodiscard]] bool source_failed() const override { return source_failed_; }

 private:
  const UploadContext& context_;
  ClientJob& job_;
  ObjectStore* store_;
  std::uint64_t granted_ = 0;
  bool holds_budget_ = false;
  std::vector<StoredEvent> memory_;
  std::vector<std::string> columns_;
  bool source_failed_ = false;
};

}  // namespace

std::unique_ptr<ObjectWriter> make_merged_upload(const UploadContext& context, ClientJob& job,
                                                 ObjectStore* store) {
  return std::make_unique<MergedUpload>(context, job, store);
}

}  // namespace es::exporter
