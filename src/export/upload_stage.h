#pragma once
/// The write side of an hour: one job per client (its events in each reader partition and its
/// spilled or staged runs), processed by a few upload workers under a byte budget. Used by
/// `run` (final objects) and by the scale-out stages (`work` writes runs, `merge` final objects).
/// How each object is written is in upload/object_writer.h.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http.h"
#include "core/config.h"
#include "core/time.h"
#include "export/ports.h"
#include "export/upload/buffer_pool.h"
#include "export/upload/client_job.h"
#include "export/upload/object_writer.h"
// The pieces objects are written with, for the stage's callers (scale-out writes its runs with them).
#include "export/upload/event_source.h"
#include "export/upload/events_body.h"
#include "export/upload/object_sink.h"

namespace es::exporter {

class UploadStage {
 public:
  /// run_buffer_bytes: the read buffer of each run being merged (larger for runs in S3, each refill
  /// being one ranged GET).
  UploadStage(const ExportConfig& config, const Ports& ports, bool dry_run, const HourWindow& window,
              std::uint64_t upload_bytes, std::size_t run_buffer_bytes = 64 << 10);

  /// Writes every job's final object (config.upload_concurrency workers, one store each).
  void run(std::vector<ClientJob>& jobs);

  /// Runs process on every job instead (store is null in a dry run).
  using Processor = std::function<void(ClientJob& job, ObjectStore* store)>;
  void run(std::vector<ClientJob>& jobs, const Processor& process);

  [[nodiscard]] ByteBudget& budget() { return budget_; }
  /// Begins a streamed upload whose part buffer is the one a finished upload of this stage gave
  /// back, and goes back for the next one however the upload ends (begin_pooled_upload).
  [[nodiscard]] Result<PooledUpload> begin_upload(ObjectStore& store, std::string_view bucket,
                                                  std::string_view key, const s3::PutOptions& options);
  [[nodiscard]] aws::CallStats stats() const { return stats_; }

 private:
  void add_stats(const aws::CallStats& s);
  /// Writes job's object with the writer make_object_writer chooses.
  void process(ClientJob& job, ObjectStore* store);

  const ExportConfig& config_;
  const Ports& ports_;
  bool dry_run_;
  ByteBudget budget_;
  BufferPool buffers_;
  std::string key_;
  UploadContext context_;
  std::mutex stats_mutex_;
  aws::CallStats stats_;
};

}  // namespace es::exporter
