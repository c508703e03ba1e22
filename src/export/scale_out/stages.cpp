#include "export/scale_out/stages.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/source_digest.h"
#include "export/hour_lease.h"
#include "export/scale_out/staged_run.h"
#include "export/scale_out/staging.h"
#include "export/spill.h"
#include "export/upload_stage.h"

namespace es::exporter {

ScaleOut::ScaleOut(Exporter& exporter, std::string run_id)
    : exporter_(exporter), run_id_(run_id.empty() ? exporter.options().run_id : std::move(run_id)) {}

Result<PlanResult> ScaleOut::plan(const HourWindow& window, int workers, bool skip_complete) {
  PlanResult result;
  ES_ASSIGN_OR_RETURN(result.plan, make_plan(exporter_.config(), window, workers, exporter_.now_us()));
  if (skip_complete) {
    ES_ASSIGN_OR_RETURN(result.complete, exporter_.hour_complete(window));
    if (result.complete) {
      log::info("scale_out.plan_skipped", {{"hour", window.label()}, {"reason", "manifest exists"}});
      return result;
    }
  }
  ES_ASSIGN_OR_RETURN(auto store, exporter_.ports().make_store());
  const ExportConfig& config = exporter_.config();
  if (!run_id_.empty()) {
    // The execution holds the hour from here to finish: one lease duration (EAGLESENSE_LEASE_SECONDS).
    const LeaseTerms terms{run_id_, this_process_holder(),
                           config.lease_seconds.value_or(kDefaultLeaseSeconds) * kMicrosPerSecond};
    HourLeases leases(*store, config, terms, [this] { return exporter_.now_us(); });
    ES_ASSIGN_OR_RETURN(const HourLease lease, leases.acquire(window));
    if (!lease.acquired) {
      result.leased = true;
      result.leased_by = lease.holder_run_id;
      result.leased_until_us = lease.until_us;
      log::info("export.hour_leased", {{"hour", window.label()},
                                       {"holder_run_id", lease.holder_run_id},
                                       {"holder", lease.holder},
                                       {"until", format_iso8601_us(lease.until_us)}});
      return result;
    }
    result.plan.lease_run_id = run_id_;
  }
  // A plan already there with the same id keeps its time (the manifest's duration counts from it).
  if (auto existing = store->get(config.ops_bucket, plan_key(window)); existing.ok()) {
    if (auto old = parse_plan(existing->body); old.ok() && old->id == result.plan.id) {
      result.plan.created_us = old->created_us;
    }
  }
  ES_TRY(store->put(config.ops_bucket, plan_key(window), render_plan(result.plan),
                    staging_put_options(config, "application/json")));
  log::info("scale_out.planned", {{"hour", window.label()},
                                  {"plan_id", result.plan.id},
                                  {"units", result.plan.units},
                                  {"read_mode", to_string(result.plan.read_mode)}});
  return result;
}

Result<UnitManifest> ScaleOut::work(const HourWindow& window, int unit, ReadProgress* progress) {
  const ExportConfig& config = exporter_.config();
  const Ports& ports = exporter_.ports();
  ES_ASSIGN_OR_RETURN(auto store, ports.make_store());
  ES_ASSIGN_OR_RETURN(Plan plan, read_plan(window, *store));
  if (unit < 0 || unit >= plan.units) {
    return Error::invalid_argument("--unit", fmt::format("is {}; the plan of {} has units 0 to {}", unit,
                                                         window.label(), plan.units - 1))
        .with_context("config");
  }
  ReadScope scope;
  scope.units = plan.unit_parts(unit);
  scope.total_segments = plan.total_segments;
  log::info(
      "scale_out.work_started",
      {{"hour", window.label()}, {"unit", unit}, {"parts", static_cast<std::uint64_t>(scope.units.size())}});

  const int threads = std::max(std::min(static_cast<int>(scope.units.size()), config.segments), 1);
  const MemoryPlan memory = plan_memory(config, exporter_.options(), threads);
  UnitManifest m;
  m.source = SourceDigestSum().result();
  m.window = window;
  m.plan_id = plan.id;
  m.unit = unit;
  if (!scope.units.empty()) {
    ES_ASSIGN_OR_RETURN(ReadResult read, read_hour(window, config, ports, progress, memory.read, scope));
    m.events_read = read.events_read;
    m.items_scanned = read.items_scanned;
    m.out_of_window = read.out_of_window;
    m.pages = read.pages;
    m.consumed_capacity = read.consumed_capacity;
    m.calls = read.calls;
    m.source = read.source;

    // One sorted run per client, streamed from memory and spill files into the ops bucket.
    std::vector<ClientJob> jobs = gather_jobs(read);
    std::vector<UnitRun> runs(jobs.size());
    constexpr std::size_t kRunBuffer = 64 << 10;
    UploadStage stage(config, ports, false, window, memory.upload_bytes);
    stage.run(jobs, [&](ClientJob& job, ObjectStore* job_store) {
      const std::uint64_t granted =
          stage.budget().acquire(config.part_size_bytes + job.runs.size() * kRunBuffer + (2 << 20));
      UnitRun& run = runs[static_cast<std::size_t>(&job - jobs.data())];
      run.client = job.client;
      run.key = run_key(window, job.client, unit);
      run.events = job.events;
      run.body_bytes = job.body_bytes;
      Status written = [&]() -> Status {
        ES_ASSIGN_OR_RETURN(PooledUpload upload,
                            stage.begin_upload(*job_store, config.ops_bucket, run.key,
                                               staging_put_options(config, kRunContentType)));
        ObjectSink sink(upload.get());
        const std::vector<StoredEvent> in_memory = sorted_memory_events(job);
        EventMerger merger(in_memory, job.runs, kRunBuffer);
        std::string buffer;
        buffer.reserve(1 << 20);
        StoredEvent e;
        for (;;) {
          ES_ASSIGN_OR_RETURN(bool more, merger.next(e));
          if (!more) break;
          append_run_record(buffer, e);
          if (buffer.size() >= (1 << 20)) {
            ES_TRY(sink.append(buffer));
            buffer.clear();
          }
        }
        ES_TRY(sink.append(buffer));
        ES_TRY(upload->finish());
        run.bytes = sink.size();
        run.sha256 = hex_encode(sink.digest());
        return ok_status();
      }();
      for (ClientEvents* part : job.parts) part->clear();
      job.runs.clear();
      if (!written.ok()) job.fatal = std::move(written).error();
      stage.budget().release(granted);
    });
    for (ClientJob& job : jobs) {
      if (job.fatal) {
        return std::move(*job.fatal)
            .with_context("scale-out", fmt::format("{} unit {} client {}", window.label(), unit, job.client));
      }
    }
    m.runs = std::move(runs);
    m.calls += stage.stats();
    m.rejected = read.rejected.size();
    if (!read.rejected.empty()) {
      const std::string bytes = encode_rejected(read.rejected);
      m.rejected_key = unit_rejected_key(window, unit);
      m.rejected_bytes = bytes.size();
      m.rejected_sha256 = hex_encode(sha256(bytes));
      ES_TRY(
          store->put(config.ops_bucket, m.rejected_key, bytes, staging_put_options(config, kRunContentType)));
    }
  }
  // Last: its presence says the unit is done.
  ES_TRY(store->put(config.ops_bucket, unit_manifest_key(window, unit), render_unit_manifest(m),
                    staging_put_options(config, "application/json")));
  m.calls += store->stats();
  log::info("scale_out.work_done", {{"hour", window.label()},
                                    {"unit", unit},
                                    {"events_read", m.events_read},
                                    {"clients", static_cast<std::uint64_t>(m.runs.size())},
                                    {"rejected", m.rejected}});
  return m;
}

Result<std::vector<std::string>> ScaleOut::list_clients(const HourWindow& window) {
  const ExportConfig& config = exporter_.config();
  ES_ASSIGN_OR_RETURN(auto store, exporter_.ports().make_store());
  ES_ASSIGN_OR_RETURN(Inputs in, read_inputs(window, *store));
  std::set<std::string> clients;
  for (const UnitManifest& m : in.units) {
    for (const UnitRun& r : m.runs) clients.insert(r.client);
  }
  std::vector<std::string> list(clients.begin(), clients.end());
  ES_TRY(store->put(config.ops_bucket, clients_key(window), render_merge_items(window, list),
                    staging_put_options(config, "application/json")));
  return list;
}

Result<MergeResult> ScaleOut::merge(const HourWindow& window, std::string_view client) {
  const ExportConfig& config = exporter_.config();
  const Ports& ports = exporter_.ports();
  ES_ASSIGN_OR_RETURN(auto owned, ports.make_store());
  std::shared_ptr<ObjectStore> store = std::move(owned);
  ES_ASSIGN_OR_RETURN(Inputs in, read_inputs(window, *store));

  ClientJob job;
  job.client = std::string(client);
  for (const UnitManifest& m : in.units) {
    for (const UnitRun& r : m.runs) {
      if (r.client != client) continue;
      SpilledRun run;
      run.file = std::make_shared<StagedRun>(store, config.ops_bucket, r);
      run.bytes = r.bytes;
      run.events = r.events;
      run.body_bytes = r.body_bytes;
      job.events += r.events;
      job.body_bytes += r.body_bytes;
      job.runs.push_back(std::move(run));
    }
  }
  if (job.runs.empty()) {
    return Error::invalid_argument("--client",
                                   fmt::format("'{}' has no events in {}", client, window.label()))
        .with_context("scale-out");
  }
  // Each refill of a run's buffer is one ranged GET: large buffers, within a quarter of the budget.
  const std::uint64_t budget = config.memory_mb << 20;
  const std::size_t run_buffer =
      static_cast<std::size_t>(std::clamp<std::uint64_t>(budget / 4 / job.runs.size(), 256 << 10, 8 << 20));
  const MemoryPlan memory = plan_memory(config, exporter_.options(), 1);
  std::vector<ClientJob> jobs;
  jobs.push_back(std::move(job));
  UploadStage stage(config, ports, false, window, memory.upload_bytes, run_buffer);
  stage.run(jobs);
  ClientJob& done = jobs.front();
  if (done.fatal) {
    return std::move(*done.fatal)
        .with_context("scale-out", fmt::format("{} client {}", window.label(), client));
  }
  MergeResult result;
  result.object = std::move(done.result);
  result.calls = stage.stats();
  result.calls += store->stats();
  ES_TRY(store->put(config.ops_bucket, merged_key(window, client), render_merge_result(result),
                    staging_put_options(config, "application/json")));
  log::info("scale_out.merged", {{"hour", window.label()},
                                 {"client", result.object.client},
                                 {"status", to_string(result.object.status)},
                                 {"events", result.object.events},
                                 {"runs", static_cast<std::uint64_t>(in.units.size())}});
  return result;
}

Result<HourReport> ScaleOut::finish(const HourWindow& window) {
  const ExportConfig& config = exporter_.config();
  ES_ASSIGN_OR_RETURN(auto store, exporter_.ports().make_store());
  ES_ASSIGN_OR_RETURN(Inputs in, read_inputs(window, *store));

  HourOutcome outcome;
  std::set<std::string> clients;
  // The hour's source digest: the units' parts added up (none when a unit was staged without one).
  SourceDigestSum source;
  bool source_known = true;
  for (const UnitManifest& m : in.units) {
    SourceDigestSum unit_source;
    if (SourceDigestSum::parse(m.source, unit_source)) {
      source += unit_source;
    } else {
      source_known = false;
    }
    outcome.events_read += m.events_read;
    outcome.items_scanned += m.items_scanned;
    outcome.out_of_window += m.out_of_window;
    outcome.consumed_capacity += m.consumed_capacity;
    outcome.calls += m.calls;
    for (const UnitRun& r : m.runs) clients.insert(r.client);
    if (m.rejected == 0) continue;
    ES_ASSIGN_OR_RETURN(s3::GetResult part, store->get(config.ops_bucket, m.rejected_key));
    if (part.body.size() != m.rejected_bytes || hex_encode(sha256(part.body)) != m.rejected_sha256) {
      return Error::invalid_data(fmt::format("{}/{}", config.ops_bucket, m.rejected_key),
                                 "the rejected part differs from its unit manifest")
          .with_context("scale-out");
    }
    ES_ASSIGN_OR_RETURN(auto rejected, decode_rejected(part.body));
    for (auto& r : rejected) outcome.rejected.push_back(std::move(r));
  }
  if (source_known) outcome.source = source.result();
  ES_ASSIGN_OR_RETURN(std::vector<MergeResult> merged,
                      read_merged(window, *store, std::vector<std::string>(clients.begin(), clients.end())));
  for (MergeResult& m : merged) {
    outcome.calls += m.calls;
    outcome.objects.push_back(std::move(m.object));
  }
  ES_ASSIGN_OR_RETURN(HourReport report,
                      exporter_.complete_hour(window, std::move(outcome), in.plan.created_us));
  // The manifest is written: the staging objects have served. First every key the plan and the unit
  // manifests name, then whatever a listing still finds (an earlier plan's units). A failure here
  // leaves garbage (the ops bucket's lifecycle rule expires staging/), not a wrong hour.
  std::vector<std::string> known = {plan_key(window), clients_key(window)};
  for (const UnitManifest& m : in.units) {
    known.push_back(unit_manifest_key(window, m.unit));
    if (!m.rejected_key.empty()) known.push_back(m.rejected_key);
    for (const UnitRun& r : m.runs) known.push_back(r.key);
  }
  for (const std::string& client : clients) known.push_back(merged_key(window, client));
  Status removed = store->remove(config.ops_bucket, known);
  if (removed.ok()) {
    auto left = store->list(config.ops_bucket, staging_prefix(window));
    removed = left.ok() ? store->remove(config.ops_bucket, *left) : Status(std::move(left).error());
  }
  if (!removed.ok()) {
    log::warn("scale_out.staging_left", {{"hour", window.label()},
                                         {"prefix", staging_prefix(window)},
                                         {"error", removed.error().to_string()}});
  }
  if (!in.plan.lease_run_id.empty()) {
    const LeaseTerms terms{in.plan.lease_run_id, {}, 0};
    HourLeases leases(*store, config, terms, [this] { return exporter_.now_us(); });
    if (Status released = leases.release_held_by(window, in.plan.lease_run_id); !released.ok()) {
      log::warn("lease.not_released", {{"hour", window.label()}, {"error", released.error().to_string()}});
    }
  }
  const aws::CallStats finish_calls = store->stats();
  report.requests += finish_calls.requests;
  report.retries += finish_calls.retries;
  report.throttles += finish_calls.throttles;
  return report;
}

}  // namespace es::exporter
