#include "export/upload_stage.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "core/guarded.h"

namespace es::exporter {

UploadStage::UploadStage(const ExportConfig& config, const Ports& ports, bool dry_run,
                         const HourWindow& window, std::uint64_t upload_bytes, std::size_t run_buffer_bytes)
    : config_(config),
      ports_(ports),
      dry_run_(dry_run),
      budget_(upload_bytes),
      buffers_(upload_bytes),
      key_(config.object_key(window.key_date_part())),
      context_{config, window, key_, budget_, buffers_, run_buffer_bytes} {}

void UploadStage::run(std::vector<ClientJob>& jobs) {
  run(jobs, [this](ClientJob& job, ObjectStore* store) { process(job, store); });
}

void UploadStage::run(std::vector<ClientJob>& jobs, const Processor& process) {
  std::atomic<std::size_t> next{0};
  const auto workers =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(config_.upload_concurrency, 1)), jobs.size());
  std::vector<std::jthread> threads;
  threads.reserve(workers);
  for (std::size_t t = 0; t < workers; ++t) {
    threads.emplace_back([&] {
      std::unique_ptr<ObjectStore> store;
      if (!dry_run_) {
        auto made = guarded("making an S3 client", [&] { return ports_.make_store(); });
        if (!made.ok()) {
          for (std::size_t i = next++; i < jobs.size(); i = next++) jobs[i].fatal = made.error();
          return;
        }
        store = std::move(made).value();
      }
      for (std::size_t i = next++; i < jobs.size(); i = next++) {
        // An exception from the writer or the store fails this client's job (and so the hour), not
        // the process.
        Status done = guarded("uploading a client's object", [&]() -> Status {
          process(jobs[i], store.get());
          return ok_status();
        });
        if (!done.ok() && !jobs[i].fatal)
          jobs[i].fatal = std::move(done).error().with_context("upload", jobs[i].client);
      }
      if (store) add_stats(store->stats());
    });
  }
}

void UploadStage::add_stats(const aws::CallStats& s) {
  std::lock_guard lock(stats_mutex_);
  stats_ += s;
}

void UploadStage::process(ClientJob& job, ObjectStore* store) {
  // The writer holds the client's events and its share of the budget until it is destroyed.
  const std::unique_ptr<ObjectWriter> writer = make_object_writer(context_, job, store);
  Result<s3::PutOptions> options = writer->prepare();
  if (!options.ok()) {
    job.fatal = std::move(options).error();
    return;
  }
  if (store != nullptr) deliver_or_set_aside(context_, job, *options, *writer);
}

Result<PooledUpload> UploadStage::begin_upload(ObjectStore& store, std::string_view bucket,
                                               std::string_view key, const s3::PutOptions& options) {
  return begin_pooled_upload(store, buffers_, config_.part_size_bytes, bucket, key, options);
}

}  // namespace es::exporter
