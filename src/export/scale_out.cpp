#include "export/scale_out.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/hash.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "export/put_options.h"
#include "export/spill.h"
#include "export/upload_stage.h"

namespace es::exporter {
namespace {

constexpr std::string_view kRunContentType = "application/x-eaglesense-run";

Error stage_not_ready(const HourWindow& window, std::string message) {
  Error e = Error::invalid_argument(window.label(), std::move(message));
  e.kind = ErrorKind::kNotFound;
  e.code = std::string(kStageNotReady);
  return std::move(e).with_context("scale-out");
}

Error json_error(std::string_view what, std::string_view field, simdjson::error_code err) {
  return Error::invalid_data(std::string(what),
                             fmt::format("field '{}': {}", field, simdjson::error_message(err)));
}

/// Reads field of o into out (string, integer or double), naming the document on failure.
template <typename T>
Status read_field(simdjson::dom::element o, std::string_view what, std::string_view field, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    std::string_view v;
    if (auto err = o[field].get(v)) return json_error(what, field, err);
    out = std::string(v);
  } else if constexpr (std::is_same_v<T, int>) {
    std::int64_t v = 0;
    if (auto err = o[field].get(v)) return json_error(what, field, err);
    out = static_cast<int>(v);
  } else if constexpr (std::is_same_v<T, double>) {
    // A whole number parses as an integer: accept either.
    if (auto err = o[field].get(out)) {
      std::int64_t v = 0;
      if (o[field].get(v) != simdjson::SUCCESS) return json_error(what, field, err);
      out = static_cast<double>(v);
    }
  } else {
    if (auto err = o[field].get(out)) return json_error(what, field, err);
  }
  return ok_status();
}

s3::PutOptions staging_put_options(const ExportConfig& config, std::string_view content_type) {
  s3::PutOptions o = encrypted_put_options(config);
  o.content_type = std::string(content_type);
  o.checksum_sha256 = true;
  return o;
}

/// A run stored in the ops bucket, read by ranged GETs. Reads are sequential from offset 0 (a CSV
/// merge makes two passes), so the run's SHA-256 is checked as the last byte arrives.
class StagedRun final : public RunSource {
 public:
  StagedRun(std::shared_ptr<ObjectStore> store, std::string bucket, UnitRun run)
      : store_(std::move(store)), bucket_(std::move(bucket)), run_(std::move(run)) {}

  Status read_at(std::uint64_t offset, char* out, std::size_t n) const override {
    if (n == 0) return ok_status();
    ES_ASSIGN_OR_RETURN(std::string bytes, store_->get_range(bucket_, run_.key, offset, offset + n - 1));
    std::memcpy(out, bytes.data(), n);
    if (offset == 0) {
      hash_ = Sha256();
      hashed_ = 0;
    }
    if (offset == hashed_) {
      hash_.update(bytes);
      hashed_ += n;
      if (hashed_ == run_.bytes && hex_encode(hash_.finish()) != run_.sha256) {
        return Error::invalid_data(fmt::format("{}/{}", bucket_, run_.key),
                                   "the run's SHA-256 differs from its unit manifest")
            .with_context("scale-out");
      }
    }
    return ok_status();
  }

 private:
  std::shared_ptr<ObjectStore> store_;
  std::string bucket_;
  UnitRun run_;
  mutable Sha256 hash_;
  mutable std::uint64_t hashed_ = 0;
};

void append_u32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}

}  // namespace

// ---- plan -----------------------------------------------------------------------------------

std::vector<int> Plan::unit_parts(int unit) const {
  std::vector<int> parts;
  if (read_mode == "query") {
    for (int s = unit; s < shards; s += units) parts.push_back(s);
  } else {
    const int per_unit = total_segments / units;
    for (int s = unit * per_unit; s < (unit + 1) * per_unit; ++s) parts.push_back(s);
  }
  return parts;
}

Result<Plan> make_plan(const ExportConfig& config, const HourWindow& window, int workers,
                       std::int64_t now_us) {
  if (workers < 1 || workers > 10000) {
    return Error::invalid_argument("--workers", fmt::format("is {}; give 1 to 10000", workers))
        .with_context("config");
  }
  Plan plan;
  plan.window = window;
  plan.read_mode = std::string(to_string(config.read_mode));
  plan.table = config.table;
  plan.format = std::string(to_string(config.format));
  plan.compression = std::string(to_string(config.compression));
  if (config.read_mode == ReadMode::kQuery) {
    plan.shards = config.shards;
    plan.units = std::min(workers, config.shards);
  } else {
    plan.units = workers;
    plan.total_segments = workers * std::max(config.segments, 1);
  }
  plan.created_us = now_us;
  // The id covers everything that decides what a unit reads and writes, not when it was planned:
  // planning the same hour the same way again keeps the units already done.
  plan.id = hex_encode(sha256(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", window.label(), plan.units,
                                          plan.read_mode, plan.total_segments, plan.shards, plan.table,
                                          plan.format, plan.compression)))
                .substr(0, 16);
  return plan;
}

std::string render_plan(const Plan& plan) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(plan.window.label());
  w.key("plan_id").value(plan.id);
  w.key("units").value(plan.units);
  w.key("read_mode").value(plan.read_mode);
  w.key("total_segments").value(plan.total_segments);
  w.key("shards").value(plan.shards);
  w.key("table").value(plan.table);
  w.key("format").value(plan.format);
  w.key("compression").value(plan.compression);
  w.key("created_at").value(format_iso8601_us(plan.created_us));
  w.end_object();
  out += '\n';
  return out;
}

Result<Plan> parse_plan(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc))
    return json_error("plan", "(document)", err);
  Plan plan;
  std::string hour;
  std::string created;
  ES_TRY(read_field(doc, "plan", "hour", hour));
  ES_ASSIGN_OR_RETURN(plan.window, HourWindow::parse_hour(hour));
  ES_TRY(read_field(doc, "plan", "plan_id", plan.id));
  ES_TRY(read_field(doc, "plan", "units", plan.units));
  ES_TRY(read_field(doc, "plan", "read_mode", plan.read_mode));
  ES_TRY(read_field(doc, "plan", "total_segments", plan.total_segments));
  ES_TRY(read_field(doc, "plan", "shards", plan.shards));
  ES_TRY(read_field(doc, "plan", "table", plan.table));
  ES_TRY(read_field(doc, "plan", "format", plan.format));
  ES_TRY(read_field(doc, "plan", "compression", plan.compression));
  ES_TRY(read_field(doc, "plan", "created_at", created));
  ES_ASSIGN_OR_RETURN(plan.created_us, parse_iso8601_us(created));
  if (plan.units < 1 || (plan.read_mode != "query" && plan.total_segments % plan.units != 0)) {
    return Error::invalid_data(
        "plan", fmt::format("{} units do not divide {} segments", plan.units, plan.total_segments));
  }
  return plan;
}

// ---- unit manifest ---------------------------------------------------------------------------

std::string render_unit_manifest(const UnitManifest& m) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(m.window.label());
  w.key("plan_id").value(m.plan_id);
  w.key("unit").value(m.unit);
  w.key("events_read").value(m.events_read);
  w.key("items_scanned").value(m.items_scanned);
  w.key("out_of_window").value(m.out_of_window);
  w.key("pages").value(m.pages);
  w.key("consumed_capacity").value(m.consumed_capacity);
  w.key("rejected").value(m.rejected);
  w.key("rejected_key").value(m.rejected_key);
  w.key("rejected_bytes").value(m.rejected_bytes);
  w.key("rejected_sha256").value(m.rejected_sha256);
  w.key("requests").value(m.calls.requests);
  w.key("retries").value(m.calls.retries);
  w.key("throttles").value(m.calls.throttles);
  w.key("runs").begin_array();
  for (const UnitRun& r : m.runs) {
    std::string line = "\n  ";
    json::Writer rw(line);
    rw.begin_object();
    rw.key("client").value(r.client);
    rw.key("key").value(r.key);
    rw.key("events").value(r.events);
    rw.key("body_bytes").value(r.body_bytes);
    rw.key("bytes").value(r.bytes);
    rw.key("sha256").value(r.sha256);
    rw.end_object();
    w.raw(line);
  }
  if (!m.runs.empty()) out += '\n';
  w.end_array();
  w.end_object();
  out += '\n';
  return out;
}

Result<UnitManifest> parse_unit_manifest(std::string_view json) {
  constexpr std::string_view kWhat = "unit manifest";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc)) return json_error(kWhat, "(document)", err);
  UnitManifest m;
  std::string hour;
  ES_TRY(read_field(doc, kWhat, "hour", hour));
  ES_ASSIGN_OR_RETURN(m.window, HourWindow::parse_hour(hour));
  ES_TRY(read_field(doc, kWhat, "plan_id", m.plan_id));
  ES_TRY(read_field(doc, kWhat, "unit", m.unit));
  ES_TRY(read_field(doc, kWhat, "events_read", m.events_read));
  ES_TRY(read_field(doc, kWhat, "items_scanned", m.items_scanned));
  ES_TRY(read_field(doc, kWhat, "out_of_window", m.out_of_window));
  ES_TRY(read_field(doc, kWhat, "pages", m.pages));
  ES_TRY(read_field(doc, kWhat, "consumed_capacity", m.consumed_capacity));
  ES_TRY(read_field(doc, kWhat, "rejected", m.rejected));
  ES_TRY(read_field(doc, kWhat, "rejected_key", m.rejected_key));
  ES_TRY(read_field(doc, kWhat, "rejected_bytes", m.rejected_bytes));
  ES_TRY(read_field(doc, kWhat, "rejected_sha256", m.rejected_sha256));
  ES_TRY(read_field(doc, kWhat, "requests", m.calls.requests));
  ES_TRY(read_field(doc, kWhat, "retries", m.calls.retries));
  ES_TRY(read_field(doc, kWhat, "throttles", m.calls.throttles));
  simdjson::dom::array runs;
  if (auto err = doc["runs"].get(runs)) return json_error(kWhat, "runs", err);
  for (simdjson::dom::element o : runs) {
    UnitRun r;
    ES_TRY(read_field(o, kWhat, "client", r.client));
    ES_TRY(read_field(o, kWhat, "key", r.key));
    ES_TRY(read_field(o, kWhat, "events", r.events));
    ES_TRY(read_field(o, kWhat, "body_bytes", r.body_bytes));
    ES_TRY(read_field(o, kWhat, "bytes", r.bytes));
    ES_TRY(read_field(o, kWhat, "sha256", r.sha256));
    m.runs.push_back(std::move(r));
  }
  return m;
}

// ---- keys ------------------------------------------------------------------------------------

std::string staging_prefix(const HourWindow& window) {
  return fmt::format("staging/{}/", window.label());
}
std::string plan_key(const HourWindow& window) {
  return staging_prefix(window) + "plan.json";
}
// '_' cannot start a client id's bucket name part, so "_units" etc. never meet a client's prefix.
std::string unit_manifest_key(const HourWindow& window, int unit) {
  return fmt::format("{}_units/unit-{:05}.json", staging_prefix(window), unit);
}
std::string run_key(const HourWindow& window, std::string_view client, int unit) {
  return fmt::format("{}{}/unit-{:05}", staging_prefix(window), client, unit);
}
std::string unit_rejected_key(const HourWindow& window, int unit) {
  return fmt::format("{}_rejected/unit-{:05}", staging_prefix(window), unit);
}
std::string clients_key(const HourWindow& window) {
  return staging_prefix(window) + "_clients.json";
}
std::string merged_key(const HourWindow& window, std::string_view client) {
  return fmt::format("{}_merged/{}.json", staging_prefix(window), client);
}

// ---- rejected parts --------------------------------------------------------------------------

std::string encode_rejected(const std::vector<RejectedEvent>& rejected) {
  std::string out;
  for (const RejectedEvent& r : rejected) {
    for (const std::string* field : {&r.reason, &r.message, &r.event_id, &r.client_id, &r.item}) {
      append_u32(out, static_cast<std::uint32_t>(field->size()));
      out += *field;
    }
  }
  return out;
}

Result<std::vector<RejectedEvent>> decode_rejected(std::string_view bytes) {
  std::vector<RejectedEvent> out;
  while (!bytes.empty()) {
    RejectedEvent r;
    for (std::string* field : {&r.reason, &r.message, &r.event_id, &r.client_id, &r.item}) {
      std::uint32_t n = 0;
      if (bytes.size() < 4) return Error::invalid_data("rejected part", "truncated length");
      std::memcpy(&n, bytes.data(), 4);
      bytes.remove_prefix(4);
      if (bytes.size() < n) return Error::invalid_data("rejected part", "truncated field");
      *field = std::string(bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
    out.push_back(std::move(r));
  }
  return out;
}

// ---- stages ----------------------------------------------------------------------------------

Result<Plan> ScaleOut::read_plan(const HourWindow& window, ObjectStore& store) {
  const ExportConfig& config = exporter_.config();
  auto got = store.get(config.ops_bucket, plan_key(window));
  if (!got.ok()) {
    if (got.error().kind == ErrorKind::kNotFound && got.error().code != "NoSuchBucket") {
      return stage_not_ready(window,
                             fmt::format("no plan at s3://{}/{}: run `eaglesense plan --hour {}` first",
                                         config.ops_bucket, plan_key(window), window.label()));
    }
    return std::move(got).error();
  }
  ES_ASSIGN_OR_RETURN(Plan plan, parse_plan(got->body));
  // The stages must agree with the plan on what they read and write.
  const std::pair<std::string_view, std::pair<std::string_view, std::string>> checks[] = {
      {"DYNAMODB_TABLE_NAME", {plan.table, config.table}},
      {"EAGLESENSE_READ_MODE", {plan.read_mode, std::string(to_string(config.read_mode))}},
      {"OUTPUT_FORMAT", {plan.format, std::string(to_string(config.format))}},
      {"EAGLESENSE_COMPRESSION", {plan.compression, std::string(to_string(config.compression))}},
  };
  for (const auto& [setting, values] : checks) {
    if (values.first != values.second) {
      return Error::invalid_argument(
                 std::string(setting),
                 fmt::format("is '{}' but the plan of {} says '{}'; plan again or use the "
                             "plan's setting",
                             values.second, window.label(), values.first))
          .with_context("config");
    }
  }
  return plan;
}

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
                                  {"read_mode", result.plan.read_mode}});
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

Result<ScaleOut::Inputs> ScaleOut::read_inputs(const HourWindow& window, ObjectStore& store) {
  const ExportConfig& config = exporter_.config();
  Inputs in;
  ES_ASSIGN_OR_RETURN(in.plan, read_plan(window, store));
  in.units.reserve(static_cast<std::size_t>(in.plan.units));
  for (int u = 0; u < in.plan.units; ++u) {
    auto got = store.get(config.ops_bucket, unit_manifest_key(window, u));
    if (!got.ok()) {
      if (got.error().kind == ErrorKind::kNotFound && got.error().code != "NoSuchBucket") {
        return stage_not_ready(window, fmt::format("unit {} of {} has no unit manifest yet (s3://{}/{}): run "
                                                   "`eaglesense work --hour {} --unit {}`",
                                                   u, in.plan.units, config.ops_bucket,
                                                   unit_manifest_key(window, u), window.label(), u));
      }
      return std::move(got).error();
    }
    ES_ASSIGN_OR_RETURN(UnitManifest m, parse_unit_manifest(got->body));
    if (m.plan_id != in.plan.id || m.unit != u) {
      return stage_not_ready(window,
                             fmt::format("the manifest of unit {} belongs to plan {}, not to the current "
                                         "plan {}: run `eaglesense work --hour {} --unit {}` again",
                                         u, m.plan_id, in.plan.id, window.label(), u));
    }
    in.units.push_back(std::move(m));
  }
  return in;
}

Result<std::vector<std::string>> ScaleOut::list_clients(const HourWindow& window) {
  const ExportConfig& config = exporter_.config();
  ES_ASSIGN_OR_RETURN(auto store, exporter_.ports().make_store());
  ES_ASSIGN_OR_RETURN(Inputs in, read_inputs(window, *store));
  std::set<std::string> clients;
  for (const UnitManifest& m : in.units) {
    for (const UnitRun& r : m.runs) clients.insert(r.client);
  }
  // The Map state's items: a JSON array, one merge event per line.
  std::string items = "[";
  bool first = true;
  for (const std::string& c : clients) {
    items += first ? "\n" : ",\n";
    first = false;
    json::Writer w(items);
    w.begin_object();
    w.key("stage").value("merge");
    w.key("hour").value(window.label());
    w.key("client").value(c);
    w.end_object();
  }
  items += clients.empty() ? "]\n" : "\n]\n";
  ES_TRY(store->put(config.ops_bucket, clients_key(window), items,
                    staging_put_options(config, "application/json")));
  return std::vector<std::string>(clients.begin(), clients.end());
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
  std::string text;
  {
    json::Writer w(text);
    w.begin_object();
    w.key("requests").value(result.calls.requests);
    w.key("retries").value(result.calls.retries);
    w.key("throttles").value(result.calls.throttles);
    w.key("object").raw(render_manifest_object(result.object));
    w.end_object();
    text += '\n';
  }
  ES_TRY(store->put(config.ops_bucket, merged_key(window, client), text,
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
  for (const UnitManifest& m : in.units) {
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
  for (const std::string& client : clients) {
    auto got = store->get(config.ops_bucket, merged_key(window, client));
    if (!got.ok()) {
      if (got.error().kind == ErrorKind::kNotFound && got.error().code != "NoSuchBucket") {
        return stage_not_ready(window,
                               fmt::format("client {} is not merged yet: run `eaglesense merge --hour {} "
                                           "--client {}`",
                                           client, window.label(), client));
      }
      return std::move(got).error();
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto err = parser.parse(got->body).get(doc)) return json_error("merge result", "(document)", err);
    aws::CallStats calls;
    ES_TRY(read_field(doc, "merge result", "requests", calls.requests));
    ES_TRY(read_field(doc, "merge result", "retries", calls.retries));
    ES_TRY(read_field(doc, "merge result", "throttles", calls.throttles));
    simdjson::dom::element object;
    if (auto err = doc["object"].get(object)) return json_error("merge result", "object", err);
    ES_ASSIGN_OR_RETURN(ManifestObject mo, parse_manifest_object(simdjson::minify(object)));
    outcome.calls += calls;
    outcome.objects.push_back(std::move(mo));
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
  const aws::CallStats finish_calls = store->stats();
  report.requests += finish_calls.requests;
  report.retries += finish_calls.retries;
  report.throttles += finish_calls.throttles;
  return report;
}

// ---- outputs -----------------------------------------------------------------------------------

std::string render_plan_output(const PlanResult& result) {
  const Plan& plan = result.plan;
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(plan.window.label());
  w.key("complete").value(result.complete);
  w.key("plan_id").value(plan.id);
  w.key("workers").value(result.complete ? 0 : plan.units);
  w.key("plan_key").value(plan_key(plan.window));
  w.key("units").begin_array();
  if (!result.complete) {
    for (int u = 0; u < plan.units; ++u) {
      w.begin_object();
      w.key("stage").value("work");
      w.key("hour").value(plan.window.label());
      w.key("unit").value(u);
      w.end_object();
    }
  }
  w.end_array();
  w.end_object();
  return out;
}

std::string render_clients_output(const HourWindow& window, std::size_t clients, std::string_view bucket) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("hour").value(window.label());
  w.key("clients").value(static_cast<std::uint64_t>(clients));
  w.key("items_bucket").value(bucket);
  w.key("items_key").value(clients_key(window));
  w.end_object();
  return out;
}

}  // namespace es::exporter
