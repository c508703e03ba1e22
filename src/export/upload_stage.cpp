#include "export/upload_stage.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <thread>

#include "core/log.h"
#include "export/exporter.h"
#include "export/put_options.h"

namespace es::exporter {
namespace {

/// Runs f when the scope ends, however it ends.
template <class F>
class AtExit {
 public:
  explicit AtExit(const F& f) : f_(f) {}
  AtExit(const AtExit&) = delete;
  AtExit& operator=(const AtExit&) = delete;
  ~AtExit() { f_(); }

 private:
  const F& f_;
};

/// At most the bytes of a client's uncompressed json/ndjson object: its events, a separator and
/// newline each, and the brackets.
std::uint64_t object_bound(const ClientJob& job) {
  return job.body_bytes + 2 * job.events + 16;
}

}  // namespace

std::uint64_t ByteBudget::acquire(std::uint64_t bytes) {
  const std::uint64_t want = std::min(bytes, capacity_);
  std::unique_lock lock(mutex_);
  available_cv_.wait(lock, [&] { return used_ + want <= capacity_; });
  used_ += want;
  return want;
}

void ByteBudget::release(std::uint64_t granted) {
  {
    std::lock_guard lock(mutex_);
    used_ -= granted;
  }
  available_cv_.notify_all();
}

std::string BufferPool::take(std::size_t bytes) {
  std::string buffer;
  std::string dropped;  // freed outside the lock
  {
    std::lock_guard lock(mutex_);
    auto best = idle_.end();
    auto largest = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->capacity() >= bytes && (best == idle_.end() || it->capacity() < best->capacity())) best = it;
      if (largest == idle_.end() || it->capacity() > largest->capacity()) largest = it;
    }
    // None fits: the largest makes way for the new buffer, which would otherwise sit beside it.
    auto chosen = best != idle_.end() ? best : largest;
    if (chosen != idle_.end()) {
      idle_bytes_ -= chosen->capacity();
      (best != idle_.end() ? buffer : dropped) = std::move(*chosen);
      idle_.erase(chosen);
    }
  }
  buffer.reserve(bytes);
  return buffer;
}

void BufferPool::give(std::string buffer) {
  buffer.clear();
  std::lock_guard lock(mutex_);
  if (idle_bytes_ + buffer.capacity() > capacity_) return;  // the caller frees it, after the unlock
  idle_bytes_ += buffer.capacity();
  idle_.push_back(std::move(buffer));
}

std::uint64_t BufferPool::idle_bytes() {
  std::lock_guard lock(mutex_);
  return idle_bytes_;
}

std::vector<ClientJob> gather_jobs(ReadResult& read) {
  std::map<std::string_view, std::size_t> index;
  for (auto& partition : read.partitions) {
    for (auto& [client, events] : partition) index.emplace(client, 0);
  }
  for (auto& [client, runs] : read.runs) index.emplace(client, 0);
  std::vector<ClientJob> jobs(index.size());
  std::size_t i = 0;
  for (auto& [client, slot] : index) {
    slot = i;
    jobs[i++].client = std::string(client);
  }
  for (auto& partition : read.partitions) {
    for (auto& [client, events] : partition) {
      ClientJob& job = jobs[index[client]];
      job.parts.push_back(&events);
      job.body_bytes += events.body_bytes;
      job.events += events.events.size();
    }
  }
  for (auto& [client, runs] : read.runs) {
    ClientJob& job = jobs[index[client]];
    for (auto& run : runs) {
      job.body_bytes += run.body_bytes;
      job.events += run.events;
      job.runs.push_back(std::move(run));
    }
  }
  return jobs;
}

std::vector<StoredEvent> sorted_memory_events(const ClientJob& job) {
  std::size_t n = 0;
  for (const ClientEvents* part : job.parts) n += part->events.size();
  std::vector<StoredEvent> events;
  events.reserve(n);
  for (const ClientEvents* part : job.parts)
    events.insert(events.end(), part->events.begin(), part->events.end());
  sort_events(events);
  return events;
}

UploadStage::UploadStage(const ExportConfig& config, const Ports& ports, bool dry_run,
                         const HourWindow& window, std::uint64_t upload_bytes, std::size_t run_buffer_bytes)
    : config_(config),
      ports_(ports),
      dry_run_(dry_run),
      window_(window),
      budget_(upload_bytes),
      buffers_(upload_bytes),
      run_buffer_bytes_(run_buffer_bytes),
      key_(config.object_key(window.key_date_part())) {}

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
        auto made = ports_.make_store();
        if (!made.ok()) {
          for (std::size_t i = next++; i < jobs.size(); i = next++) jobs[i].fatal = made.error();
          return;
        }
        store = std::move(made).value();
      }
      for (std::size_t i = next++; i < jobs.size(); i = next++) process(jobs[i], store.get());
      if (store) add_stats(store->stats());
    });
  }
}

void UploadStage::add_stats(const aws::CallStats& s) {
  std::lock_guard lock(stats_mutex_);
  stats_ += s;
}

void UploadStage::process(ClientJob& job, ObjectStore* store) {
  if (!job.runs.empty()) {
    process_streamed(job, store);
    return;
  }
  std::vector<StoredEvent> events = sorted_memory_events(job);
  ManifestObject& m = job.result;
  m.client = job.client;
  m.bucket = config_.client_bucket(job.client);
  m.key = key_;
  m.events = events.size();
  m.min_time_us = events.front().time_us;
  m.max_time_us = events.back().time_us;
  std::vector<std::string_view> bodies;
  // However this ends, the client's events are freed (a built object frees them sooner, before its
  // upload).
  const auto free_events = [&] {
    bodies = {};
    events = {};
    for (ClientEvents* part : job.parts) part->clear();
  };
  const AtExit at_exit(free_events);

  // Within one PutObject, an uncompressed json or ndjson object is never built: its bytes are
  // hashed, then produced again from the events straight into the request (EventsBody). Building
  // it wrote every byte once more into memory faulted in for it.
  const std::uint64_t bound = object_bound(job);
  if (produced_while_sent(bound)) {
    SortedEvents source(events);
    Result<ObjectPass> pass = hash_object(config_.format, source);
    if (!pass.ok()) {
      job.fatal = std::move(pass).error();
      return;
    }
    m.bytes = pass->bytes;
    m.sha256 = hex_encode(pass->digest);
    m.status = ObjectStatus::kDelivered;
    if (store != nullptr) {
      EventsBody body(config_.format, source, m.bytes);
      deliver(job, object_put_options(config_, window_, m.events, pass->digest),
              [&](std::string_view bucket, std::string_view key, const s3::PutOptions& options) {
                return store->put_from(bucket, key, body, options);
              });
    }
    return;
  }

  bodies.reserve(events.size());
  for (const StoredEvent& e : events) bodies.push_back(e.body());
  const std::uint64_t granted = budget_.acquire(bound);
  std::string object = buffers_.take(config_.compression == Compression::kNone ? bound : 1 << 20);
  StringSink sink(object);
  Status encoded = encode_object(config_.format, config_.compression, bodies, sink);
  // The events are in `object` now (or failed to encode): free them before uploading.
  free_events();
  if (!encoded.ok()) {
    job.fatal = std::move(encoded).error();
    buffers_.give(std::move(object));
    budget_.release(granted);
    return;
  }
  const Sha256Digest digest = sha256(object);
  m.bytes = object.size();
  m.sha256 = hex_encode(digest);
  m.status = ObjectStatus::kDelivered;
  if (store != nullptr) {
    deliver(job, object_put_options(config_, window_, m.events, digest),
            [&](std::string_view bucket, std::string_view key, const s3::PutOptions& options) {
              return store->put(bucket, key, object, options);
            });
  }
  buffers_.give(std::move(object));
  budget_.release(granted);
}

void UploadStage::deliver(ClientJob& job, const s3::PutOptions& options, const Put& put) {
  ManifestObject& m = job.result;
  auto written = put(m.bucket, m.key, options);
  if (written.ok()) {
    log::debug("export.object_written",
               {{"client", job.client}, {"bucket", m.bucket}, {"key", m.key}, {"events", m.events}});
    return;
  }
  if (job.fatal) return;  // the events could not be read (put set it): not the bucket's fault
  m.status = ObjectStatus::kUndeliverable;
  m.error = written.error().to_string();
  m.undeliverable_key = undeliverable_key(job.client, key_);
  log::error("export.undeliverable", {{"hour", window_.label()},
                                      {"client", job.client},
                                      {"bucket", m.bucket},
                                      {"events", m.events},
                                      {"error", m.error}});
  s3::PutOptions ops_options = options;
  ops_options.expected_bucket_owner.clear();
  ops_options.metadata["intended-bucket"] = m.bucket;
  auto kept = put(config_.ops_bucket, m.undeliverable_key, ops_options);
  if (!kept.ok()) job.fatal = std::move(kept).error();
}

bool UploadStage::produced_while_sent(std::uint64_t bytes) const {
  return config_.compression == Compression::kNone && config_.format != OutputFormat::kCsv &&
         bytes <= config_.multipart_threshold_bytes;
}

Result<bool> SortedEvents::next(StoredEvent& event) {
  if (next_ == events_.size()) return false;
  if (next_ + kPrefetchAhead < events_.size()) prefetch_event(events_[next_ + kPrefetchAhead].body());
  event = events_[next_++];
  return true;
}

Result<bool> MergedEvents::next(StoredEvent& event) {
  if (!merger_) {
    merger_.emplace(memory_, runs_, buffer_bytes_);
  }
  Result<bool> more = merger_->next(event);
  if (!more.ok()) failed_ = true;
  return more;
}

Result<ObjectPass> hash_object(OutputFormat format, EventSource& source) {
  ObjectPass pass;
  ObjectSink sink(nullptr);
  EventWriter writer(format, sink);
  source.rewind();
  StoredEvent e;
  for (;;) {
    ES_ASSIGN_OR_RETURN(const bool more, source.next(e));
    if (!more) break;
    if (pass.events == 0) pass.min_time_us = e.time_us;
    pass.max_time_us = e.time_us;
    ++pass.events;
    ES_TRY(writer.add(e.body()));
  }
  ES_TRY(writer.finish());
  pass.bytes = sink.size();
  pass.digest = sink.digest();
  return pass;
}

EventsBody::EventsBody(OutputFormat format, EventSource& events, std::uint64_t size)
    : format_(format), events_(events), size_(size) {
  rewind();
}

void EventsBody::rewind() {
  events_.rewind();
  finished_ = false;
  window_.overflow.clear();
  window_.overflow_at = 0;
  writer_.emplace(format_, window_);
}

Result<std::size_t> EventsBody::read(char* out, std::size_t room) {
  Window& w = window_;
  w.out = out;
  w.room = room;
  w.filled = 0;
  // First what did not fit in the previous read.
  const std::size_t left = w.overflow.size() - w.overflow_at;
  if (left > 0) {
    w.filled = std::min(left, room);
    std::memcpy(out, w.overflow.data() + w.overflow_at, w.filled);
    w.overflow_at += w.filled;
    if (w.overflow_at == w.overflow.size()) {
      w.overflow.clear();
      w.overflow_at = 0;
    }
  }
  StoredEvent e;
  while (w.filled < room && !finished_) {
    ES_ASSIGN_OR_RETURN(const bool more, events_.next(e));
    if (more) {
      ES_TRY(writer_->add(e.body()));
    } else {
      finished_ = true;
      ES_TRY(writer_->finish());
    }
  }
  return w.filled;
}

Status EventsBody::Window::append(std::string_view bytes) {
  const std::size_t n = std::min(bytes.size(), room - filled);
  if (n > 0) std::memcpy(out + filled, bytes.data(), n);
  filled += n;
  if (n < bytes.size()) overflow.append(bytes.substr(n));
  return ok_status();
}

void GiveBackPartBuffer::operator()(ObjectUpload* upload) const {
  if (upload != nullptr && pool != nullptr) pool->give(upload->take_buffer());
  delete upload;  // NOLINT(cppcoreguidelines-owning-memory): the deleter of a unique_ptr
}

Result<PooledUpload> UploadStage::begin_upload(ObjectStore& store, std::string_view bucket,
                                               std::string_view key, const s3::PutOptions& options) {
  ES_ASSIGN_OR_RETURN(std::unique_ptr<ObjectUpload> upload, store.begin_upload(bucket, key, options));
  upload->lend_buffer(buffers_.take(config_.part_size_bytes + kPartChunkRoom));
  return PooledUpload(upload.release(), GiveBackPartBuffer{&buffers_});
}

/// A client whose events were partly spilled: merged from memory and its runs straight into the
/// encoder and a multipart upload, never held whole. Written again from the same sources to the
/// ops bucket when the client's bucket refuses it.
void UploadStage::process_streamed(ClientJob& job, ObjectStore* store) {
  const std::size_t kRunBuffer = run_buffer_bytes_;
  // Runs in local files are cheap to read twice: an object within one PutObject is hashed in a first
  // merge, then produced by a second one while it is sent. Its bytes are hashed once instead of twice
  // (the object's digest, then each part's), no part is held in memory, and the store is spared a
  // multipart upload (s3rver copies every part again on completion).
  const bool local_runs =
      std::all_of(job.runs.begin(), job.runs.end(), [](const SpilledRun& run) { return run.file->local(); });
  const bool two_passes = local_runs && produced_while_sent(object_bound(job));
  // A buffer per run (one merge at a time), and for a multipart upload the part being filled.
  const std::uint64_t granted =
      budget_.acquire(job.runs.size() * kRunBuffer + (two_passes ? 0 : config_.part_size_bytes));
  std::vector<StoredEvent> memory = sorted_memory_events(job);
  // However this ends, the client's events are freed and its share of the budget given back.
  const auto done = [&] {
    memory = {};
    for (ClientEvents* part : job.parts) part->clear();
    budget_.release(granted);
  };
  const AtExit at_exit(done);

  std::vector<std::string> columns;
  if (config_.format == OutputFormat::kCsv) {
    CsvColumns collect;
    EventMerger merger(memory, job.runs, kRunBuffer);
    StoredEvent e;
    for (;;) {
      auto more = merger.next(e);
      if (!more.ok()) {
        job.fatal = std::move(more).error();
        return;
      }
      if (!*more) break;
      if (Status st = collect.add(e.body()); !st.ok()) {
        job.fatal = std::move(st).error();
        return;
      }
    }
    columns = collect.take();
  }

  ManifestObject& m = job.result;
  m.client = job.client;
  m.bucket = config_.client_bucket(job.client);
  m.key = key_;
  m.status = ObjectStatus::kDelivered;

  if (two_passes) {
    MergedEvents source(memory, job.runs, kRunBuffer);
    Result<ObjectPass> pass = hash_object(config_.format, source);
    if (!pass.ok()) {
      job.fatal = std::move(pass).error();
      return;
    }
    m.events = pass->events;
    m.min_time_us = pass->min_time_us;
    m.max_time_us = pass->max_time_us;
    m.bytes = pass->bytes;
    m.sha256 = hex_encode(pass->digest);
    if (store != nullptr) {
      EventsBody body(config_.format, source, m.bytes);
      deliver(job, object_put_options(config_, window_, m.events, pass->digest),
              [&](std::string_view bucket, std::string_view key, const s3::PutOptions& options) {
                auto put = store->put_from(bucket, key, body, options);
                if (!put.ok() && source.failed()) job.fatal = put.error();
                return put;
              });
    }
    return;
  }

  // Writes the object once to (bucket, key); returns its digest or the error.
  // A failure to read the events (a spill file, a staged run) is not the destination's fault: it
  // fails the hour instead of making the client undeliverable.
  bool source_failed = false;
  auto write_to = [&](std::string_view bucket, std::string_view key,
                      const s3::PutOptions& options) -> Result<Sha256Digest> {
    PooledUpload upload;
    if (store != nullptr) {
      ES_ASSIGN_OR_RETURN(upload, begin_upload(*store, bucket, key, options));
    }
    ObjectSink sink(upload.get());
    ES_ASSIGN_OR_RETURN(auto compressor, Compressor::make(config_.compression, sink));
    EventWriter writer(config_.format, *compressor, columns);
    EventMerger merger(memory, job.runs, kRunBuffer);
    StoredEvent e;
    std::uint64_t count = 0;
    for (;;) {
      auto more = merger.next(e);
      if (!more.ok()) {
        source_failed = true;
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
    return sink.digest();
  };
  s3::PutOptions options = object_put_options(config_, window_, job.events, Sha256Digest{});
  options.precomputed_sha256.clear();
  auto written = write_to(m.bucket, m.key, options);
  if (written.ok()) {
    m.sha256 = hex_encode(*written);
  } else if (source_failed) {
    job.fatal = std::move(written).error();
  } else {
    m.status = ObjectStatus::kUndeliverable;
    m.error = written.error().to_string();
    m.undeliverable_key = undeliverable_key(job.client, key_);
    log::error("export.undeliverable",
               {{"hour", window_.label()}, {"client", job.client}, {"error", m.error}});
    s3::PutOptions ops_options = options;
    ops_options.expected_bucket_owner.clear();
    ops_options.metadata["intended-bucket"] = m.bucket;
    auto kept = write_to(config_.ops_bucket, m.undeliverable_key, ops_options);
    if (!kept.ok()) {
      job.fatal = std::move(kept).error();
    } else {
      m.sha256 = hex_encode(*kept);
    }
  }
}

}  // namespace es::exporter
