#include "export/exporter.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/build_info.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "export/put_options.h"
#include "export/upload_stage.h"

namespace es::exporter {
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

std::vector<ManifestRevision> PriorManifest::history() const {
  std::vector<ManifestRevision> all = manifest.history;
  ManifestRevision self;
  self.counts() = manifest.counts();
  self.revision = manifest.revision;
  self.reason = manifest.reason;
  self.sha256 = sha256;
  self.generated_at = manifest.generated_at;
  self.run_id = manifest.run_id;
  all.push_back(std::move(self));
  return all;
}

Status put_manifest(ObjectStore& store, std::string_view bucket, std::string_view key, std::string_view text,
                    const s3::PutOptions& options) {
  auto put = store.put(bucket, key, text, options);
  if (put.ok()) return ok_status();
  if (put.error().kind == ErrorKind::kConflict) {
    // A retried PUT whose first attempt was stored (its answer lost): the condition now sees this very
    // manifest. Its bytes name this run and the time it was written, so equal bytes mean ours.
    auto stored = store.get(bucket, key);
    if (stored.ok() && stored->body == text) {
      log::info("export.manifest_already_written", {{"key", std::string(key)}});
      return ok_status();
    }
  }
  return std::move(put).error().with_context("export", "manifest");
}

std::string output_settings_hash(const ExportConfig& config) {
  // One "name=value" line per setting, in a fixed order: adding a setting changes every hash once.
  std::string text;
  const auto line = [&text](std::string_view name, std::string_view value) {
    text += fmt::format("{}={}\n", name, value);
  };
  line("format", to_string(config.format));
  line("compression", to_string(config.compression));
  line("read_mode", to_string(config.read_mode));
  line("client_attr", config.client_attr);
  line("time_attr", config.time_attr);
  line("id_attr", config.id_attr);
  line("required_attrs", fmt::format("{}", fmt::join(config.required_attrs, ",")));
  line("bucket_prefix", config.bucket_prefix);
  line("ops_bucket", config.ops_bucket);
  line("reserved_buckets", fmt::format("{}", fmt::join(config.reserved_buckets, ",")));
  return hex_encode(sha256(text));
}

Exporter::Exporter(ExportConfig config, Ports ports, ExportOptions options,
                   std::function<std::int64_t()> now_us)
    : config_(std::move(config)),
      ports_(std::move(ports)),
      options_(options),
      now_us_(now_us ? std::move(now_us) : system_now_us) {}

MemoryPlan Exporter::memory_plan() const {
  const int reader_threads =
      std::min(config_.read_mode == ReadMode::kQuery ? config_.shards : config_.segments, config_.segments);
  return plan_memory(config_, options_, reader_threads);
}

Result<bool> Exporter::hour_complete(const HourWindow& window) {
  ES_ASSIGN_OR_RETURN(auto store, ports_.make_store());
  auto manifest = store->get(config_.ops_bucket, manifest_key(window));
  if (manifest.ok()) return true;
  if (manifest.error().kind == ErrorKind::kNotFound && manifest.error().code != "NoSuchBucket") return false;
  return std::move(manifest).error();
}

Result<HourRevision> Exporter::rerun_revision(const HourWindow& window) {
  HourRevision revision;
  auto prior = prior_manifest(window, &revision.lookup_calls);
  // A dry run writes no manifest: one it cannot look up does not stop it.
  if (!prior.ok() && !options_.dry_run) return std::move(prior).error();
  if (prior.ok() && *prior) {
    revision.prior = std::move(**prior);
    revision.reason = RevisionReason::kManualRerun;
  }
  return revision;
}

Result<std::optional<PriorManifest>> Exporter::prior_manifest(const HourWindow& window,
                                                              aws::CallStats* calls) {
  ES_ASSIGN_OR_RETURN(auto store, ports_.make_store());
  auto got = store->get(config_.ops_bucket, manifest_key(window));
  if (calls != nullptr) *calls += store->stats();
  if (!got.ok()) {
    if (got.error().kind == ErrorKind::kNotFound && got.error().code != "NoSuchBucket") {
      return std::optional<PriorManifest>();
    }
    return std::move(got).error().with_context("export", fmt::format("manifest of {}", window.label()));
  }
  auto manifest = parse_manifest(got->body);
  if (!manifest.ok()) {
    return std::move(manifest).error().with_context("export", fmt::format("manifest of {}", window.label()));
  }
  PriorManifest prior;
  prior.manifest = std::move(*manifest);
  prior.sha256 = hex_encode(sha256(got->body));
  prior.etag = std::move(got->etag);
  return std::optional<PriorManifest>(std::move(prior));
}

namespace {

/// Leaves out of jobs every client of prior's delivered objects whose events shrank, and returns their
/// objects as prior wrote them, with source_events set to what the table holds now.
std::vector<ManifestObject> keep_shrunk_objects(const HourWindow& window, const Manifest& prior,
                                                std::vector<ClientJob>& jobs) {
  // Each client's events now, looked up once per prior object (thousands of clients).
  std::unordered_map<std::string_view, std::uint64_t> events_now;
  events_now.reserve(jobs.size());
  for (const ClientJob& j : jobs) events_now.emplace(j.client, j.events);
  std::vector<ManifestObject> kept;
  std::unordered_set<std::string_view> left_alone;
  for (const ManifestObject& o : prior.objects) {
    if (o.status != ObjectStatus::kDelivered) continue;
    const auto found = events_now.find(o.client);
    const std::uint64_t now = found == events_now.end() ? 0 : found->second;
    if (now >= o.events) continue;
    log::warn("export.source_shrank", {{"hour", window.label()},
                                       {"client", o.client},
                                       {"events_delivered", o.events},
                                       {"events_in_table", now},
                                       {"action", "object left as it was (--allow-shrink rewrites it)"}});
    ManifestObject left = o;
    left.source_events = now;
    kept.push_back(std::move(left));
    left_alone.insert(o.client);
  }
  if (!left_alone.empty()) {
    std::erase_if(jobs, [&](const ClientJob& j) { return left_alone.contains(j.client); });
  }
  return kept;
}

}  // namespace

Result<HourReport> Exporter::export_hour(const HourWindow& window, ReadProgress* progress) {
  const std::int64_t started = now_us_();
  log::info(
      "export.hour_started",
      {{"hour", window.label()}, {"table", config_.table}, {"read_mode", to_string(config_.read_mode)}});
  ES_ASSIGN_OR_RETURN(const HourRevision revision, rerun_revision(window));

  const MemoryPlan memory = memory_plan();
  ES_ASSIGN_OR_RETURN(ReadResult read, read_hour(window, config_, ports_, progress, memory.read));
  return write_hour(window, std::move(read), revision, started);
}

Result<HourReport> Exporter::write_hour(const HourWindow& window, ReadResult read,
                                        const HourRevision& revision, std::int64_t started_us) {
  if (read.spills > 0) {
    log::info("export.spilled", {{"hour", window.label()},
                                 {"spills", read.spills},
                                 {"spilled_bytes", read.spilled_bytes},
                                 {"bytes_per_thread", memory_plan().read.bytes_per_thread}});
  }
  // Gather each client's parts across reader partitions, clients in name order.
  std::vector<ClientJob> jobs = gather_jobs(read);
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
  HourOutcome outcome;
  if (revision.prior && !options_.allow_shrink) {
    outcome.kept = keep_shrunk_objects(window, revision.prior->manifest, jobs);
  }

  UploadStage uploads(config_, ports_, options_.dry_run, window, memory_plan().upload_bytes);
  uploads.run(jobs);
  outcome.events_read = read.events_read;
  outcome.items_scanned = read.items_scanned;
  outcome.out_of_window = read.out_of_window;
  outcome.consumed_capacity = read.consumed_capacity;
  outcome.rejected = std::move(read.rejected);
  outcome.calls = read.calls;
  outcome.calls += uploads.stats();
  outcome.source = read.source;
  for (ClientJob& job : jobs) {
    if (job.fatal) {
      return std::move(*job.fatal)
          .with_context("export", fmt::format("{} client {}", window.label(), job.client));
    }
    outcome.objects.push_back(std::move(job.result));
  }
  ES_ASSIGN_OR_RETURN(HourReport report, complete_hour(window, std::move(outcome), started_us, revision));
  if (revision.prior && !options_.dry_run) remove_stale_copies(window, revision.prior->manifest, report);
  return report;
}

void Exporter::remove_stale_copies(const HourWindow& window, const Manifest& prior,
                                   const HourReport& report) {
  std::vector<std::string> stale;
  for (const ManifestObject& old : prior.objects) {
    if (old.status != ObjectStatus::kUndeliverable || old.undeliverable_key.empty()) continue;
    const auto now = std::find_if(report.objects_detail.begin(), report.objects_detail.end(),
                                  [&](const ManifestObject& o) { return o.client == old.client; });
    // Still undeliverable: the copy was just written again (same key). Delivered, or no longer in the
    // hour (its events were deleted, the manifest says so): the copy is stale.
    if (now != report.objects_detail.end() && now->status == ObjectStatus::kUndeliverable &&
        now->undeliverable_key == old.undeliverable_key) {
      continue;
    }
    stale.push_back(old.undeliverable_key);
  }
  if (stale.empty()) return;
  auto store = ports_.make_store();
  Status removed = store.ok() ? (*store)->remove(config_.ops_bucket, stale) : Status(store.error());
  if (!removed.ok()) {
    // The manifest no longer points at them: a later run or a person may delete them; nothing is lost.
    log::warn("export.stale_copies_left",
              {{"hour", window.label()}, {"copies", stale.size()}, {"error", removed.error().to_string()}});
    return;
  }
  log::info("export.stale_copies_removed", {{"hour", window.label()}, {"copies", stale.size()}});
}

Result<HourReport> Exporter::complete_hour(const HourWindow& window, HourOutcome outcome,
                                           std::int64_t started_us) {
  ES_ASSIGN_OR_RETURN(const HourRevision revision, rerun_revision(window));
  return complete_hour(window, std::move(outcome), started_us, revision);
}

Result<HourReport> Exporter::complete_hour(const HourWindow& window, HourOutcome outcome,
                                           std::int64_t started_us, const HourRevision& revision) {
  HourReport report;
  report.window = window;
  report.events_read = outcome.events_read;
  report.events_rejected = outcome.rejected.size();
  report.items_scanned = outcome.items_scanned;
  report.out_of_window = outcome.out_of_window;
  report.consumed_capacity = outcome.consumed_capacity;
  for (ManifestObject& object : outcome.objects) {
    if (object.status == ObjectStatus::kDelivered) {
      report.events_delivered += object.events;
      ++report.objects;
      report.bytes += object.bytes;
    } else {
      report.events_undeliverable += object.events;
    }
    report.objects_detail.push_back(std::move(object));
  }
  // Objects left as an earlier revision wrote them: the events the table still holds are in them.
  for (ManifestObject& object : outcome.kept) {
    report.events_delivered += object.source_events.value_or(0);
    report.source_shrank.push_back(object.client);
    report.objects_detail.push_back(std::move(object));
  }
  std::sort(report.objects_detail.begin(), report.objects_detail.end(),
            [](const ManifestObject& a, const ManifestObject& b) { return a.client < b.client; });
  report.clients = report.objects_detail.size();
  outcome.calls += revision.lookup_calls;
  report.requests = outcome.calls.requests;
  report.retries = outcome.calls.retries;
  report.throttles = outcome.calls.throttles;
  Manifest manifest;
  manifest.window = window;
  manifest.table = config_.table;
  manifest.table_detail = options_.source_table;
  manifest.table_detail.name = config_.table;
  manifest.git_commit = std::string(git_commit());
  manifest.run_id = options_.run_id;
  manifest.settings_hash = output_settings_hash(config_);
  manifest.read_mode = config_.read_mode;
  manifest.format = config_.format;
  manifest.compression = config_.compression;
  manifest.counts() = report.counts();
  manifest.objects = report.objects_detail;
  manifest.version = EAGLESENSE_VERSION;
  manifest.source = outcome.source;
  manifest.reason = revision.reason;
  if (revision.prior) {
    manifest.revision = revision.prior->manifest.revision + 1;
    manifest.history = revision.prior->history();
  }
  report.revision = options_.dry_run ? 0 : manifest.revision;
  report.reason = manifest.reason;
  report.manifest_key = manifest_key(window);

  if (!report.balanced()) {
    return Error::internal(
        fmt::format("accounting mismatch for {}: read {} != delivered {} + rejected {} + "
                    "undeliverable {}",
                    window.label(), report.events_read, report.events_delivered, report.events_rejected,
                    report.events_undeliverable));
  }

  if (!options_.dry_run) {
    ES_ASSIGN_OR_RETURN(auto store, ports_.make_store());
    s3::PutOptions ops = encrypted_put_options(config_);
    ops.content_type = "application/json";
    if (!outcome.rejected.empty()) {
      manifest.rejected_key = rejected_key(window);
      const std::string rejected = render_rejected(std::move(outcome.rejected));
      auto put = store->put(config_.ops_bucket, manifest.rejected_key, rejected, ops);
      if (!put.ok()) return std::move(put).error().with_context("export", "rejected events");
    }
    report.duration_ms = (now_us_() - started_us) / 1000;
    manifest.duration_ms = report.duration_ms;
    manifest.generated_at = format_iso8601_us(now_us_());
    const std::string text = render_manifest(manifest);
    // Written over the revision this one follows and nothing else: another run's manifest written in
    // between (a run without the lease, a server that lost it) fails this hour instead of being
    // overwritten unseen. Servers that ignore conditions (s3rver) just write.
    s3::PutOptions manifest_options = ops;
    if (revision.prior && !revision.prior->etag.empty()) {
      manifest_options.if_match = revision.prior->etag;
    } else if (!revision.prior) {
      manifest_options.if_none_match = true;
    }
    ES_TRY(put_manifest(*store, config_.ops_bucket, report.manifest_key, text, manifest_options));
    // The ops-bucket writes count too (regression: fault.summary_requests found them missing).
    const aws::CallStats ops_stats = store->stats();
    report.requests += ops_stats.requests;
    report.retries += ops_stats.retries;
    report.throttles += ops_stats.throttles;
  }
  report.duration_ms = (now_us_() - started_us) / 1000;
  report.status = options_.dry_run                  ? HourStatus::kDryRun
                  : report.events_undeliverable > 0 ? HourStatus::kUndeliverable
                                                    : HourStatus::kExported;
  log::info("export.hour_done", {{"hour", window.label()},
                                 {"status", to_string(report.status)},
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
