#include "export/status.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/guarded.h"
#include "core/json_reader.h"

namespace es::exporter {

std::string lock_key(const HourWindow& window) {
  return fmt::format("locks/{}.json", window.label());
}

Result<HourLock> parse_hour_lock(std::string_view json) {
  ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(json, "hour lock"));
  HourLock lock;
  ES_ASSIGN_OR_RETURN(lock.run_id, doc.string_or_empty("run_id"));
  ES_ASSIGN_OR_RETURN(lock.holder, doc.string_or_empty("holder"));
  ES_ASSIGN_OR_RETURN(lock.acquired_at_us, doc.instant("acquired_at"));
  ES_ASSIGN_OR_RETURN(lock.expires_at_us, doc.instant("expires_at"));
  return lock;
}

HourOverview hour_overview(const HourWindow& window, const std::optional<Manifest>& manifest,
                           const std::optional<HourLock>& lock, std::int64_t now_us) {
  HourOverview h;
  h.window = window;
  h.manifest_key = manifest_key(window);
  if (!manifest) {
    h.lock = lock;
    if (!lock) {
      h.state = HourState::kMissing;
    } else if (now_us < lock->expires_at_us) {
      h.state = HourState::kInProgress;
    } else {
      // The lease ran out and no manifest was written: the run that held it died mid-hour.
      h.state = HourState::kFailed;
      h.note = fmt::format("lease of run {} ({}) expired at {} without a manifest", lock->run_id,
                           lock->holder, format_iso8601_us(lock->expires_at_us));
    }
    return h;
  }
  const Manifest& m = *manifest;
  h.counts() = m.counts();
  h.revision = m.revision;
  h.reason = std::string(to_string(m.reason));
  h.generated_at = m.generated_at;
  h.duration_ms = m.duration_ms;
  h.clients = m.objects.size();
  h.objects.reserve(m.objects.size());
  for (const ManifestObject& o : m.objects) {
    h.bytes += o.bytes;
    h.objects.push_back({o.client, o.bucket, o.key, o.undeliverable_key, o.status, o.events, o.bytes});
  }
  std::sort(h.objects.begin(), h.objects.end(),
            [](const StatusObject& a, const StatusObject& b) { return a.client < b.client; });
  h.state = m.has_undeliverable() ? HourState::kCompleteUndeliverable : HourState::kComplete;
  return h;
}

std::vector<ClientOverview> aggregate_clients(const std::vector<HourOverview>& hours) {
  std::map<std::string, ClientOverview, std::less<>> by_client;
  for (const HourOverview& h : hours) {
    for (const StatusObject& o : h.objects) {
      auto [it, inserted] = by_client.try_emplace(o.client);
      ClientOverview& c = it->second;
      if (inserted) c.client = o.client;
      c.events += o.events;
      c.bytes += o.bytes;
      ++c.hours;
      if (o.status == ObjectStatus::kUndeliverable) {
        c.events_undeliverable += o.events;
        c.undeliverable_hours.push_back(h.window);
      } else {
        c.events_delivered += o.events;
      }
    }
  }
  std::vector<ClientOverview> clients;
  clients.reserve(by_client.size());
  for (auto& [name, c] : by_client) clients.push_back(std::move(c));
  return clients;
}

std::size_t StatusReport::count(HourState s) const {
  return static_cast<std::size_t>(
      std::count_if(hours.begin(), hours.end(), [s](const HourOverview& h) { return h.state == s; }));
}

std::size_t StatusReport::revised_hours() const {
  return static_cast<std::size_t>(
      std::count_if(hours.begin(), hours.end(), [](const HourOverview& h) { return h.revised(); }));
}

StatusReport make_status_report(const ExportConfig& config, std::vector<HourOverview> hours,
                                std::int64_t now_us) {
  StatusReport r;
  r.generated_at_us = now_us;
  r.ops_bucket = config.ops_bucket;
  r.hours = std::move(hours);
  if (!r.hours.empty()) {
    r.from = r.hours.front().window;
    r.to = r.hours.back().window;
  }
  for (const HourOverview& h : r.hours) {
    r.totals += h.counts();
    r.bytes += h.bytes;
  }
  r.clients = aggregate_clients(r.hours);
  return r;
}

int status_exit_code(const StatusReport& report) {
  // The codes of `run`: 1 for an hour that has to be exported again, 3 for events set aside.
  if (report.count(HourState::kMissing) > 0 || report.count(HourState::kFailed) > 0) return 1;
  if (report.totals.events_undeliverable > 0 || report.count(HourState::kCompleteUndeliverable) > 0) return 3;
  return 0;
}

namespace {

/// A GET of an object that may be absent: nullopt when it is (but not when the bucket is).
Result<std::optional<std::string>> get_if_present(ObjectStore& store, std::string_view bucket,
                                                  std::string_view key) {
  auto got = store.get(bucket, key);
  if (got.ok()) return std::optional<std::string>(std::move(got->body));
  const Error& e = got.error();
  if (e.kind == ErrorKind::kNotFound && e.code != "NoSuchBucket") return std::optional<std::string>();
  return std::move(got).error().with_context("status", fmt::format("{}/{}", bucket, key));
}

Result<HourOverview> read_hour_overview(ObjectStore& store, const HourWindow& window,
                                        const ExportConfig& config, std::int64_t now_us) {
  const std::string key = manifest_key(window);
  ES_ASSIGN_OR_RETURN(const std::optional<std::string> manifest_text,
                      get_if_present(store, config.ops_bucket, key));
  if (manifest_text) {
    auto manifest = parse_manifest(*manifest_text);
    if (manifest.ok()) return hour_overview(window, *manifest, std::nullopt, now_us);
    // A damaged manifest does not make the hour complete; the report says why and goes on.
    HourOverview h = hour_overview(window, std::nullopt, std::nullopt, now_us);
    h.state = HourState::kFailed;
    h.note = fmt::format("the manifest does not parse: {}", manifest.error().message);
    return h;
  }
  // Only an hour without a manifest has a lease worth reading: a manifest is the last word.
  ES_ASSIGN_OR_RETURN(const std::optional<std::string> lock_text,
                      get_if_present(store, config.ops_bucket, lock_key(window)));
  std::optional<HourLock> lock;
  if (lock_text) {
    auto parsed = parse_hour_lock(*lock_text);
    if (!parsed.ok()) {
      HourOverview h = hour_overview(window, std::nullopt, std::nullopt, now_us);
      h.state = HourState::kFailed;
      h.note = fmt::format("no manifest, and the lease does not parse: {}", parsed.error().message);
      return h;
    }
    lock = std::move(parsed).value();
  }
  return hour_overview(window, std::nullopt, lock, now_us);
}

}  // namespace

Result<StatusReport> read_status(const std::vector<HourWindow>& hours, const ExportConfig& config,
                                 const Ports& ports, const StatusOptions& options) {
  std::vector<std::optional<HourOverview>> read(hours.size());
  std::optional<Error> first_error;
  std::mutex error_mutex;
  const auto fail = [&](Error e) {
    std::lock_guard lock(error_mutex);
    if (!first_error) first_error = std::move(e);
  };
  std::atomic<std::size_t> next{0};
  const auto workers =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(options.concurrency, 1)), hours.size());
  {
    std::vector<std::jthread> threads;
    threads.reserve(workers);
    for (std::size_t t = 0; t < workers; ++t) {
      threads.emplace_back([&] {
        // An exception (std::bad_alloc, a library's) fails the status read, not the process.
        Status s = guarded("reading the status of hours", [&]() -> Status {
          ES_ASSIGN_OR_RETURN(const std::unique_ptr<ObjectStore> store, ports.make_store());
          for (std::size_t i = next++; i < hours.size(); i = next++) {
            ES_ASSIGN_OR_RETURN(read[i], read_hour_overview(*store, hours[i], config, options.now_us));
          }
          return ok_status();
        });
        if (!s.ok()) fail(std::move(s).error());
      });
    }
  }
  if (first_error) return std::move(*first_error);
  std::vector<HourOverview> statuses;
  statuses.reserve(read.size());
  for (std::optional<HourOverview>& h : read) statuses.push_back(std::move(*h));
  return make_status_report(config, std::move(statuses), options.now_us);
}

}  // namespace es::exporter
