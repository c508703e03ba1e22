#include "export/upload/object_writer.h"

#include <algorithm>

#include "core/log.h"
#include "export/exporter.h"

namespace es::exporter {

bool produced_while_sent(const ExportConfig& config, std::uint64_t bytes) {
  return config.compression == Compression::kNone && config.format != OutputFormat::kCsv &&
         bytes <= config.multipart_threshold_bytes;
}

std::unique_ptr<ObjectWriter> make_object_writer(const UploadContext& context, ClientJob& job,
                                                 ObjectStore* store) {
  // Within one PutObject, an uncompressed json or ndjson object is never built: its bytes are
  // hashed, then produced again from the events straight into the request. Building it wrote every
  // byte once more into memory faulted in for it.
  const bool within_one_put = produced_while_sent(context.config, object_bound(job));
  if (job.runs.empty()) {
    return within_one_put ? make_produced_object(context, job, store)
                          : make_built_object(context, job, store);
  }
  // Runs in local files are cheap to read twice: an object within one PutObject is hashed in a first
  // merge, then produced by a second one while it is sent. Its bytes are hashed once instead of twice
  // (the object's digest, then each part's), no part is held in memory, and the store is spared a
  // multipart upload (s3rver copies every part again on completion).
  const bool local_runs =
      std::all_of(job.runs.begin(), job.runs.end(), [](const SpilledRun& run) { return run.file->local(); });
  return local_runs && within_one_put ? make_produced_object(context, job, store)
                                      : make_merged_upload(context, job, store);
}

void deliver_or_set_aside(const UploadContext& context, ClientJob& job, const s3::PutOptions& options,
                          ObjectWriter& writer) {
  ManifestObject& m = job.result;
  Status written = writer.send(m.bucket, m.key, options);
  if (written.ok()) {
    log::debug("export.object_written",
               {{"client", job.client}, {"bucket", m.bucket}, {"key", m.key}, {"events", m.events}});
    return;
  }
  // Neither the events' fault nor the bucket's: the hour stops (the deadline) or fails as a whole.
  if (writer.source_failed() || is_deadline_exceeded(written.error())) {
    job.fatal = std::move(written).error();
    return;
  }
  m.status = ObjectStatus::kUndeliverable;
  m.error = written.error().to_string();
  m.undeliverable_key = undeliverable_key(job.client, context.key);
  log::error("export.undeliverable", {{"hour", context.window.label()},
                                      {"client", job.client},
                                      {"bucket", m.bucket},
                                      {"events", m.events},
                                      {"error", m.error}});
  s3::PutOptions ops_options = options;
  ops_options.expected_bucket_owner = context.config.ops_bucket_owner;
  ops_options.metadata["intended-bucket"] = m.bucket;
  Status kept = writer.send(context.config.ops_bucket, m.undeliverable_key, ops_options);
  if (!kept.ok()) job.fatal = std::move(kept).error();
}

}  // namespace es::exporter
