#pragma once
/// How a client's object is written. Three strategies, one file each, chosen in make_object_writer:
///  - built in memory (built_object.cpp): compressed, csv or beyond one PutObject, with all its
///    events in memory: encoded into a pooled buffer, the events freed, then one put;
///  - produced while it is sent (produced_object.cpp): uncompressed json/ndjson within one
///    PutObject, from events in memory or merged with runs in local files: hashed in a first pass,
///    then produced again into the request (EventsBody) for each attempt;
///  - merged into an upload (merged_upload.cpp): any other client with runs: merged from memory and
///    its runs straight through the encoder and compressor into a streamed (multipart) upload.
/// All send through deliver_or_set_aside: to the client's bucket, or when it refuses the object,
/// the same bytes into the ops bucket as undeliverable.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "core/time.h"
#include "export/ports.h"
#include "export/upload/buffer_pool.h"
#include "export/upload/client_job.h"
#include "s3/s3_types.h"

namespace es::exporter {

/// What the writers of an hour's objects share (owned by the UploadStage).
struct UploadContext {
  const ExportConfig& config;
  const HourWindow& window;
  const std::string& key;  ///< every client object's key in the hour
  ByteBudget& budget;
  BufferPool& buffers;
  std::size_t run_buffer_bytes;  ///< the read buffer of each run being merged
};

/// One client's object, written by one of the strategies. Holds what the object needs (its events,
/// its share of the budget, its buffer) until it is destroyed, which frees the client's events.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  /// Reads the client's events and gets the object ready: job.result gets its name, status,
  /// events and time range, and its bytes and digest when they are known before it is sent. In a
  /// dry run (no store) that is all, and job.result is complete. Returns the options of the
  /// object's PUT; an error fails the hour.
  [[nodiscard]] virtual Result<s3::PutOptions> prepare() = 0;
  /// Sends the object to bucket/key (once for each destination); job.result gets what the send
  /// learns (bytes, digest).
  [[nodiscard]] virtual Status send(std::string_view bucket, std::string_view key,
                                    const s3::PutOptions& options) = 0;
  /// Whether the last send failed because the client's events could not be read (a spill file, a
  /// staged run): no fault of the destination.
  [[nodiscard]] virtual bool source_failed() const = 0;
};

/// The writer of job's object (store is null in a dry run): the one place the strategy is chosen.
[[nodiscard]] std::unique_ptr<ObjectWriter> make_object_writer(const UploadContext& context, ClientJob& job,
                                                               ObjectStore* store);

/// Sends job's object to its client's bucket. When the bucket refuses it (missing, access denied,
/// wrong owner, retries exhausted) the client is undeliverable: the same object goes to the ops
/// bucket under undeliverable/{client}/..., with metadata intended-bucket and without the expected
/// owner. It sets job.fatal, failing the hour, when the events could not be read or the ops
/// bucket's copy fails.
void deliver_or_set_aside(const UploadContext& context, ClientJob& job, const s3::PutOptions& options,
                          ObjectWriter& writer);

/// Whether an uncompressed json/ndjson object of at most `bytes` goes up produced while it is sent.
[[nodiscard]] bool produced_while_sent(const ExportConfig& config, std::uint64_t bytes);

// The strategies (each in its own file).
[[nodiscard]] std::unique_ptr<ObjectWriter> make_built_object(const UploadContext& context, ClientJob& job,
                                                              ObjectStore* store);
[[nodiscard]] std::unique_ptr<ObjectWriter> make_produced_object(const UploadContext& context, ClientJob& job,
                                                                 ObjectStore* store);
[[nodiscard]] std::unique_ptr<ObjectWriter> make_merged_upload(const UploadContext& context, ClientJob& job,
                                                               ObjectStore* store);

}  // namespace es::exporter
