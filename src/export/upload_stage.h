#pragma once
/// The write side of an hour: one job per client (its events in each reader partition and its
/// spilled or staged runs), processed by a few upload workers under a byte budget. Used by
/// `run` (final objects) and by the scale-out stages (`work` writes runs, `merge` final objects).

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http.h"
#include "core/config.h"
#include "core/encode.h"
#include "core/hash.h"
#include "core/manifest.h"
#include "core/time.h"
#include "export/hour_reader.h"
#include "export/ports.h"
#include "export/spill.h"

namespace es::exporter {

struct ExportOptions;

/// Bounds the bytes held at once by the upload workers. A request larger than the whole budget
/// takes all of it, so it still goes through, alone.
class ByteBudget {
 public:
  explicit ByteBudget(std::uint64_t capacity) : capacity_(std::max<std::uint64_t>(capacity, 1)) {}
  /// Blocks until bytes (capped at the capacity) are free; returns what was granted.
  std::uint64_t acquire(std::uint64_t bytes);
  void release(std::uint64_t granted);

 private:
  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  std::mutex mutex_;
  std::condition_variable available_cv_;
};

/// Encoded objects' buffers, handed back after their PUT for the next object: their pages are
/// already faulted in. A fresh multi-megabyte buffer per object cost a page fault (or its share of
/// a populate) per 4 KiB and an munmap afterwards: ~8 % of the exporter's CPU at 200,000 events.
/// Holds at most `capacity` idle bytes (the upload budget: what the objects in flight may hold
/// anyway); what does not fit is freed.
class BufferPool {
 public:
  explicit BufferPool(std::uint64_t capacity) : capacity_(capacity) {}
  /// An empty string with at least `bytes` reserved: the smallest idle buffer that fits, else a new one.
  [[nodiscard]] std::string take(std::size_t bytes);
  /// Keeps buffer's memory for a later take() if the pool has room.
  void give(std::string buffer);
  /// Capacity of the buffers held for a later take().
  [[nodiscard]] std::uint64_t idle_bytes();

 private:
  std::uint64_t capacity_;
  std::uint64_t idle_bytes_ = 0;
  std::vector<std::string> idle_;
  std::mutex mutex_;
};

/// An upload whose part buffer goes back to a BufferPool when it is destroyed.
struct GiveBackPartBuffer {
  BufferPool* pool = nullptr;
  void operator()(ObjectUpload* upload) const;
};
using PooledUpload = std::unique_ptr<ObjectUpload, GiveBackPartBuffer>;

/// One client's work item.
struct ClientJob {
  std::string client;
  std::vector<ClientEvents*> parts;  ///< its events in each reader partition
  std::vector<SpilledRun> runs;      ///< its events in sorted runs (spill files or staged objects)
  std::uint64_t body_bytes = 0;
  std::uint64_t events = 0;
  ManifestObject result;
  std::optional<Error> fatal;  ///< the job failed in a way that fails the hour
};

/// One job per client of read, in client-name order (parts point into read.partitions, whose
/// lifetime must cover the jobs'; read.runs is moved into the jobs).
[[nodiscard]] std::vector<ClientJob> gather_jobs(ReadResult& read);

/// The events of job's in-memory parts, sorted in output order (pointers into the parts' arenas).
[[nodiscard]] std::vector<StoredEvent> sorted_memory_events(const ClientJob& job);

/// Passes bytes on to an upload (or nowhere, in a dry run), hashing and counting them.
class ObjectSink final : public OutputSink {
 public:
  explicit ObjectSink(ObjectUpload* upload) : upload_(upload) {}
  Status append(std::string_view bytes) override {
    hash_.update(bytes);
    size_ += bytes.size();
    return upload_ != nullptr ? upload_->write(bytes) : ok_status();
  }
  /// Hashing alone takes the writer's pieces as they come: gathering them into chunks first was a
  /// copy of every event (scattered in memory, so cache misses) for nothing.
  [[nodiscard]] bool takes_small_writes() const noexcept override { return upload_ == nullptr; }
  Sha256Digest digest() { return hash_.finish(); }
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  ObjectUpload* upload_;
  Sha256 hash_;
  std::uint64_t size_ = 0;
};

/// A client's events in output order, for the passes over an object that is never built: from
/// the first again after rewind().
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual void rewind() = 0;
  /// The next event (valid until the next call); false at the end.
  [[nodiscard]] virtual Result<bool> next(StoredEvent& event) = 0;
};

/// Events held in memory, already sorted (they must outlive the source).
class SortedEvents final : public EventSource {
 public:
  explicit SortedEvents(std::span<const StoredEvent> events) : events_(events) {}
  void rewind() override { next_ = 0; }
  [[nodiscard]] Result<bool> next(StoredEvent& event) override;

 private:
  std::span<const StoredEvent> events_;
  std::size_t next_ = 0;
};

/// Sorted events in memory merged with spilled runs (an EventMerger, started again by rewind()).
/// failed(): a run could not be read, which is no fault of the object's destination.
class MergedEvents final : public EventSource {
 public:
  MergedEvents(std::span<const StoredEvent> memory, std::span<const SpilledRun> runs,
               std::size_t buffer_bytes)
      : memory_(memory), runs_(runs), buffer_bytes_(buffer_bytes) {}
  void rewind() override { merger_.reset(); }
  [[nodiscard]] Result<bool> next(StoredEvent& event) override;
  [[nodiscard]] bool failed() const noexcept { return failed_; }

 private:
  std::span<const StoredEvent> memory_;
  std::span<const SpilledRun> runs_;
  std::size_t buffer_bytes_;
  std::optional<EventMerger> merger_;
  bool failed_ = false;
};

/// What a first pass over an object's events found: its bytes' digest and length, its events and
/// their time range.
struct ObjectPass {
  Sha256Digest digest{};
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;
  std::int64_t min_time_us = 0;
  std::int64_t max_time_us = 0;
};
/// Encodes source's events (json or ndjson, uncompressed) without keeping the bytes.
[[nodiscard]] Result<ObjectPass> hash_object(OutputFormat format, EventSource& source);

/// An uncompressed json or ndjson object produced from its events while it is sent, so that it is
/// never held in memory whole (its events are, or their runs). size: the object's length, from
/// hash_object. The source must outlive the body.
class EventsBody final : public aws::BodySource {
 public:
  EventsBody(OutputFormat format, EventSource& events, std::uint64_t size);
  [[nodiscard]] std::uint64_t size() const override { return size_; }
  void rewind() override;
  [[nodiscard]] Result<std::size_t> read(char* out, std::size_t room) override;

 private:
  // Takes what the writer emits: into the reader's buffer while it has room, the rest kept for the
  // next read().
  struct Window final : OutputSink {
    Status append(std::string_view bytes) override;
    [[nodiscard]] bool takes_small_writes() const noexcept override { return true; }
    char* out = nullptr;
    std::size_t room = 0;
    std::size_t filled = 0;
    std::string overflow;
    std::size_t overflow_at = 0;
  };

  OutputFormat format_;
  EventSource& events_;
  std::uint64_t size_;
  Window window_;
  std::optional<EventWriter> writer_;
  bool finished_ = false;
};

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
  /// back (16 MB faulted in again for every client was a tenth of the exporter's CPU at 1,000,000
  /// events), and goes back for the next one however the upload ends.
  [[nodiscard]] Result<PooledUpload> begin_upload(ObjectStore& store, std::string_view bucket,
                                                  std::string_view key, const s3::PutOptions& options);
  [[nodiscard]] aws::CallStats stats() const { return stats_; }

 private:
  void add_stats(const aws::CallStats& s);
  void process(ClientJob& job, ObjectStore* store);
  void process_streamed(ClientJob& job, ObjectStore* store);
  /// Puts a client's object with put(bucket, key, options); when its bucket refuses it, into the
  /// ops bucket as undeliverable instead (a failure there fails the hour).
  using Put = std::function<Result<s3::PutResult>(std::string_view bucket, std::string_view key,
                                                  const s3::PutOptions& options)>;
  void deliver(ClientJob& job, const s3::PutOptions& options, const Put& put);
  /// Whether an object of at most `bytes` goes up produced from its events while it is sent.
  [[nodiscard]] bool produced_while_sent(std::uint64_t bytes) const;

  const ExportConfig& config_;
  const Ports& ports_;
  bool dry_run_;
  const HourWindow& window_;
  ByteBudget budget_;
  BufferPool buffers_;
  std::size_t run_buffer_bytes_;
  std::string key_;
  std::mutex stats_mutex_;
  aws::CallStats stats_;
};

}  // namespace es::exporter
