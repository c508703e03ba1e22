#include "export/exporter.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_writer.h"
#include "core/log.h"

namespace es::exporter {
namespace {

std::int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Bounds the bytes of encoded objects held at once by the upload workers. An object larger than
/// the whole budget takes all of it, so it still goes through, alone.
class ByteBudget {
 public:
  explicit ByteBudget(std::uint64_t capacity) : capacity_(std::max<std::uint64_t>(capacity, 1)) {}
  std::uint64_t acquire(std::uint64_t bytes) {
    const std::uint64_t want = std::min(bytes, capacity_);
    std::unique_lock lock(mutex_);
    available_cv_.wait(lock, [&] { return used_ + want <= capacity_; });
    used_ += want;
    return want;
  }
  void release(std::uint64_t granted) {
    {
      std::lock_guard lock(mutex_);
      used_ -= granted;
    }
    available_cv_.notify_all();
  }

 private:
  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  std::mutex mutex_;
  std::condition_variable available_cv_;
};

s3::PutOptions put_options(const ExportConfig& c, const HourWindow& w, std::uint64_t events,
                           const Sha256Digest& digest) {
  s3::PutOptions o;
  o.content_type = std::string(content_type(c.format));
  o.content_encoding = std::string(content_encoding(c.compression));
  o.checksum_sha256 = true;
  o.precomputed_sha256 = base64_encode(digest);
  o.encryption = c.sse == "aws:kms" ? s3::Encryption::kKms : s3::Encryption::kAes256;
  o.kms_key_id = c.kms_key_id;
  o.expected_bucket_owner = c.expected_bucket_owner;
  o.metadata = {{"event-count", std::to_string(events)},
                {"window-start", format_iso8601_us(w.start_us)},
                {"window-end", format_iso8601_us(w.end_us())}};
  return o;
}

/// One client's work item for the upload stage.
struct ClientJob {
  std::string client;
  std::vector<ClientEvents*> parts;  ///< its events in each reader partition
  std::vector<SpilledRun> runs;      ///< its events spilled to disk
  std::uint64_t body_bytes = 0;
  std::uint64_t events = 0;
  ManifestObject result;
  std::optional<Error> fatal;  ///< the ops bucket could not take an undeliverable object
};

class UploadStage {
 public:
  UploadStage(const ExportConfig& config, const Ports& ports, const ExportOptions& options,
              const HourWindow& window, std::uint64_t upload_bytes)
      : config_(config),
        ports_(ports),
        options_(options),
        window_(window),
        budget_(upload_bytes),
        key_(config.object_key(window.key_date_part())) {}

  void run(std::vector<ClientJob>& jobs) {
    std::atomic<std::size_t> next{0};
    const auto workers =
        std::min<std::size_t>(static_cast<std::size_t>(config_.upload_concurrency), jobs.size());
    std::vector<std::jthread> threads;
    threads.reserve(workers);
    for (std::size_t t = 0; t < workers; ++t) {
      threads.emplace_back([&] {
        std::unique_ptr<ObjectStore> store;
        if (!options_.dry_run) {
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

  aws::CallStats stats() const { return stats_; }

 private:
  void add_stats(const aws::CallStats& s) {
    std::lock_guard lock(stats_mutex_);
    stats_ += s;
  }

  void process(ClientJob& job, ObjectStore* store) {
    if (!job.runs.empty()) {
      process_streamed(job, store);
      return;
    }
    std::vector<StoredEvent> events;
    events.reserve(job.events);
    for (ClientEvents* part : job.parts)
      events.insert(events.end(), part->events.begin(), part->events.end());
    std::sort(events.begin(), events.end(), event_before);
    std::vector<std::string_view> bodies;
    bodies.reserve(events.size());
    for (const StoredEvent& e : events) bodies.push_back(e.body());

    const std::uint64_t granted = budget_.acquire(job.body_bytes + 2 * job.events + 16);
    std::string object;
    object.reserve(config_.compression == Compression::kNone ? job.body_bytes + 2 * job.events + 16
                                                             : 1 << 20);
    StringSink sink(object);
    Status encoded = encode_object(config_.format, config_.compression, bodies, sink);

    ManifestObject& m = job.result;
    m.client = job.client;
    m.bucket = config_.client_bucket(job.client);
    m.key = key_;
    m.events = events.size();
    m.min_time_us = events.front().time_us;
    m.max_time_us = events.back().time_us;
    // The events are in `object` now (or failed to encode): free them before uploading.
    bodies = {};
    events = {};
    for (ClientEvents* part : job.parts) *part = ClientEvents{};

    if (!encoded.ok()) {
      job.fatal = std::move(encoded).error();
      budget_.release(granted);
      return;
    }
    const Sha256Digest digest = sha256(object);
    m.bytes = object.size();
    m.sha256 = hex_encode(digest);
    m.status = "delivered";
    if (store != nullptr) {
      const s3::PutOptions options = put_options(config_, window_, m.events, digest);
      auto put = store->put(m.bucket, m.key, object, options);
      if (!put.ok()) {
        const Error& e = put.error();
        m.status = "undeliverable";
        m.error = e.to_string();
        m.undeliverable_key = undeliverable_key(job.client, key_);
        log::error("export.undeliverable", {{"hour", window_.label()},
                                            {"client", job.client},
                                            {"bucket", m.bucket},
                                            {"events", m.events},
                                            {"error", m.error}});
        s3::PutOptions ops_options = options;
        ops_options.expected_bucket_owner.clear();
        ops_options.metadata["intended-bucket"] = m.bucket;
        auto kept = store->put(config_.ops_bucket, m.undeliverable_key, object, ops_options);
        if (!kept.ok()) job.fatal = std::move(kept).error();
      } else {
        log::debug("export.object_written",
                   {{"client", job.client}, {"bucket", m.bucket}, {"key", m.key}, {"events", m.events}});
      }
    }
    budget_.release(granted);
  }

  /// Passes bytes on to an upload (or nowhere, in a dry run), hashing and counting them.
  class ObjectSink final : public OutputSink {
   public:
    explicit ObjectSink(ObjectUpload* upload) : upload_(upload) {}
    Status append(std::string_view bytes) override {
      hash_.update(bytes);
      size_ += bytes.size();
      return upload_ != nullptr ? upload_->write(bytes) : ok_status();
    }
    Sha256Digest digest() { return hash_.finish(); }
    std::uint64_t size() const { return size_; }

   private:
    ObjectUpload* upload_;
    Sha256 hash_;
    std::uint64_t size_ = 0;
  };

  /// A client whose events were partly spilled: merged from memory and its runs straight into the
  /// encoder and a multipart upload, never held whole. Written again from the same sources to the
  /// ops bucket when the client's bucket refuses it.
  void process_streamed(ClientJob& job, ObjectStore* store) {
    constexpr std::size_t kRunBuffer = 64 << 10;
    std::vector<StoredEvent> memory;
    memory.reserve(job.events);
    for (ClientEvents* part : job.parts)
      memory.insert(memory.end(), part->events.begin(), part->events.end());
    std::sort(memory.begin(), memory.end(), event_before);
    const std::uint64_t granted = budget_.acquire(config_.part_size_bytes + job.runs.size() * kRunBuffer);

    std::vector<std::string> columns;
    if (config_.format == OutputFormat::kCsv) {
      CsvColumns collect;
      EventMerger merger(memory, job.runs, kRunBuffer);
      StoredEvent e;
      for (;;) {
        auto more = merger.next(e);
        if (!more.ok()) return fail(job, std::move(more).error(), granted);
        if (!*more) break;
        if (Status st = collect.add(e.body()); !st.ok()) return fail(job, std::move(st).error(), granted);
      }
      columns = collect.take();
    }

    ManifestObject& m = job.result;
    m.client = job.client;
    m.bucket = config_.client_bucket(job.client);
    m.key = key_;
    m.status = "delivered";
    // Writes the object once to (bucket, key); returns its digest or the error.
    auto write_to = [&](std::string_view bucket, std::string_view key,
                        const s3::PutOptions& options) -> Result<Sha256Digest> {
      std::unique_ptr<ObjectUpload> upload;
      if (store != nullptr) {
        ES_ASSIGN_OR_RETURN(upload, store->begin_upload(bucket, key, options));
      }
      ObjectSink sink(upload.get());
      ES_ASSIGN_OR_RETURN(auto compressor, Compressor::make(config_.compression, sink));
      EventWriter writer(config_.format, *compressor, columns);
      EventMerger merger(memory, job.runs, kRunBuffer);
      StoredEvent e;
      std::uint64_t count = 0;
      for (;;) {
        ES_ASSIGN_OR_RETURN(bool more, merger.next(e));
        if (!more) break;
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
    s3::PutOptions options = put_options(config_, window_, job.events, Sha256Digest{});
    options.precomputed_sha256.clear();
    auto written = write_to(m.bucket, m.key, options);
    if (written.ok()) {
      m.sha256 = hex_encode(*written);
    } else {
      m.status = "undeliverable";
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
    memory = {};
    for (ClientEvents* part : job.parts) *part = ClientEvents{};
    budget_.release(granted);
  }

  void fail(ClientJob& job, Error error, std::uint64_t granted) {
    job.fatal = std::move(error);
    budget_.release(granted);
  }

  const ExportConfig& config_;
  const Ports& ports_;
  const ExportOptions& options_;
  const HourWindow& window_;
  ByteBudget budget_;
  std::string key_;
  std::mutex stats_mutex_;
  aws::CallStats stats_;
};

}  // namespace

MemoryPlan plan_memory(const ExportConfig& config, const ExportOptions& options, int reader_threads) {
  constexpr std::uint64_t kMiB = 1 << 20;
  MemoryPlan plan;
  plan.read.spill_dir = config.spill_dir;
  const std::uint64_t budget = config.memory_mb * kMiB;
  const auto threads = static_cast<std::uint64_t>(std::max(reader_threads, 1));
  plan.upload_bytes = std::max<std::uint64_t>(std::min(options.upload_memory_bytes, budget / 4), kMiB);
  const std::uint64_t fixed = plan.upload_bytes + threads * 4 * kMiB + 24 * kMiB;
  const std::uint64_t events = budget > fixed ? budget - fixed : 0;
  plan.read.bytes_per_thread = std::max<std::uint64_t>(events / threads, 64 << 10);
  return plan;
}

std::string rejected_key(const HourWindow& window) {
  return fmt::format("rejected/events-{}.json", window.key_date_part());
}

std::string undeliverable_key(std::string_view client, std::string_view object_key) {
  return fmt::format("undeliverable/{}/{}", client, object_key);
}

std::string render_rejected(std::vector<RejectedEvent> rejected) {
  std::sort(rejected.begin(), rejected.end(), [](const RejectedEvent& a, const RejectedEvent& b) {
    if (a.event_id != b.event_id) return a.event_id < b.event_id;
    return a.item < b.item;
  });
  std::string out = "[";
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    const RejectedEvent& r = rejected[i];
    out += i == 0 ? "\n" : ",\n";
    json::Writer w(out);
    w.begin_object();
    w.key("reason").value(r.reason);
    w.key("message").value(r.message);
    w.key("eventId").value(r.event_id);
    w.key("clientId").value(r.client_id);
    // The item as read when it is JSON (it always is from a decoder), else as a string.
    if (!r.item.empty() && r.item.front() == '{') {
      w.key("item").raw(r.item);
    } else {
      w.key("item").value(r.item);
    }
    w.end_object();
  }
  out += rejected.empty() ? "]\n" : "\n]\n";
  return out;
}

Exporter::Exporter(ExportConfig config, Ports ports, ExportOptions options,
                   std::function<std::int64_t()> now_us)
    : config_(std::move(config)),
      ports_(std::move(ports)),
      options_(options),
      now_us_(now_us ? std::move(now_us) : system_now_us) {}

Result<bool> Exporter::hour_complete(const HourWindow& window) {
  ES_ASSIGN_OR_RETURN(auto store, ports_.make_store());
  auto manifest = store->get(config_.ops_bucket, manifest_key(window));
  if (manifest.ok()) return true;
  if (manifest.error().kind == ErrorKind::kNotFound && manifest.error().code != "NoSuchBucket") return false;
  return std::move(manifest).error();
}

Result<HourReport> Exporter::export_hour(const HourWindow& window, ReadProgress* progress) {
  const std::int64_t started = now_us_();
  HourReport report;
  report.window = window;
  log::info(
      "export.hour_started",
      {{"hour", window.label()}, {"table", config_.table}, {"read_mode", to_string(config_.read_mode)}});

  const int reader_threads =
      std::min(config_.read_mode == ReadMode::kQuery ? config_.shards : config_.segments, config_.segments);
  const MemoryPlan memory = plan_memory(config_, options_, reader_threads);
  ES_ASSIGN_OR_RETURN(ReadResult read, read_hour(window, config_, ports_, progress, memory.read));
  if (read.spills > 0) {
    log::info("export.spilled", {{"hour", window.label()},
                                 {"spills", read.spills},
                                 {"spilled_bytes", read.spilled_bytes},
                                 {"bytes_per_thread", memory.read.bytes_per_thread}});
  }
  report.events_read = read.events_read;
  report.events_rejected = read.rejected.size();
  report.items_scanned = read.items_scanned;
  report.out_of_window = read.out_of_window;
  report.consumed_capacity = read.consumed_capacity;

  // Gather each client's parts across reader partitions, clients in name order.
  std::vector<ClientJob> jobs;
  std::size_t client_count = 0;
  {
    std::map<std::string_view, std::size_t> index;
    for (auto& partition : read.partitions) {
      for (auto& [client, events] : partition) index.emplace(client, 0);
    }
    for (auto& [client, runs] : read.runs) index.emplace(client, 0);
    jobs.resize(index.size());
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
    client_count = jobs.size();
  }
  report.clients = client_count;
  if (log::enabled(log::Level::kDebug)) {
    std::uint64_t reserved = 0;
    std::uint64_t bodies = 0;
    std::uint64_t records = 0;
    for (const auto& partition : read.partitions) {
      for (const auto& [client, events] : partition) {
        reserved += events.arena.bytes_reserved();
        bodies += events.body_bytes;
        records += events.events.capacity() * sizeof(StoredEvent);
      }
    }
    log::debug("export.read_memory", {{"hour", window.label()},
                                      {"arena_reserved_bytes", reserved},
                                      {"event_body_bytes", bodies},
                                      {"record_bytes", records}});
  }

  UploadStage uploads(config_, ports_, options_, window, memory.upload_bytes);
  uploads.run(jobs);
  for (ClientJob& job : jobs) {
    if (job.fatal) {
      return std::move(*job.fatal)
          .with_context("export", fmt::format("{} client {}", window.label(), job.client));
    }
    if (job.result.status == "delivered") {
      report.events_delivered += job.result.events;
      ++report.objects;
      report.bytes += job.result.bytes;
    } else {
      report.events_undeliverable += job.result.events;
    }
    report.objects_detail.push_back(std::move(job.result));
  }

  const aws::CallStats upload_stats = uploads.stats();
  report.requests = read.calls.requests + upload_stats.requests;
  report.retries = read.calls.retries + upload_stats.retries;
  report.throttles = read.calls.throttles + upload_stats.throttles;

  Manifest manifest;
  manifest.window = window;
  manifest.table = config_.table;
  manifest.read_mode = std::string(to_string(config_.read_mode));
  manifest.format = std::string(to_string(config_.format));
  manifest.compression = std::string(to_string(config_.compression));
  manifest.events_read = report.events_read;
  manifest.events_delivered = report.events_delivered;
  manifest.events_rejected = report.events_rejected;
  manifest.events_undeliverable = report.events_undeliverable;
  manifest.objects = report.objects_detail;
  manifest.version = EAGLESENSE_VERSION;
  report.manifest_key = manifest_key(window);

  if (report.events_read != report.events_delivered + report.events_rejected + report.events_undeliverable) {
    return Error::internal(
        fmt::format("accounting mismatch for {}: read {} != delivered {} + rejected {} + "
                    "undeliverable {}",
                    window.label(), report.events_read, report.events_delivered, report.events_rejected,
                    report.events_undeliverable));
  }

  if (!options_.dry_run) {
    ES_ASSIGN_OR_RETURN(auto store, ports_.make_store());
    s3::PutOptions ops;
    ops.content_type = "application/json";
    ops.encryption = config_.sse == "aws:kms" ? s3::Encryption::kKms : s3::Encryption::kAes256;
    ops.kms_key_id = config_.kms_key_id;
    if (!read.rejected.empty()) {
      manifest.rejected_key = rejected_key(window);
      const std::string rejected = render_rejected(std::move(read.rejected));
      auto put = store->put(config_.ops_bucket, manifest.rejected_key, rejected, ops);
      if (!put.ok()) return std::move(put).error().with_context("export", "rejected events");
    }
    report.duration_ms = (now_us_() - started) / 1000;
    manifest.duration_ms = report.duration_ms;
    manifest.generated_at = format_iso8601_us(now_us_());
    const std::string text = render_manifest(manifest);
    auto put = store->put(config_.ops_bucket, report.manifest_key, text, ops);
    if (!put.ok()) return std::move(put).error().with_context("export", "manifest");
    // The ops-bucket writes count too (regression: fault.summary_requests found them missing).
    const aws::CallStats ops_stats = store->stats();
    report.requests += ops_stats.requests;
    report.retries += ops_stats.retries;
    report.throttles += ops_stats.throttles;
  }
  report.duration_ms = (now_us_() - started) / 1000;
  report.status =
      options_.dry_run ? "dry_run" : (report.events_undeliverable > 0 ? "undeliverable" : "exported");
  log::info("export.hour_done", {{"hour", window.label()},
                                 {"status", report.status},
                                 {"events_read", report.events_read},
                                 {"events_delivered", report.events_delivered},
                                 {"events_rejected", report.events_rejected},
                                 {"events_undeliverable", report.events_undeliverable},
                                 {"clients", report.clients},
                                 {"bytes", report.bytes},
                                 {"duration_ms", report.duration_ms}});
  return report;
}

}  // namespace es::exporter
