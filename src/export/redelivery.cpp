// Exporter::redeliver: the undeliverable objects of an hour, delivered from the ops bucket's copies.

#include <fmt/format.h>

#include "core/build_info.h"
#include "core/hash.h"
#include "core/log.h"
#include "export/exporter.h"
#include "export/put_options.h"

namespace es::exporter {
namespace {

/// Sends one undeliverable object from its copy to the client's bucket; the object's entry, delivered,
/// or the reason it is still undeliverable.
Status deliver_copy(ObjectStore& store, const ExportConfig& config, const HourWindow& window,
                    const Manifest& prior, ManifestObject& object) {
  ES_ASSIGN_OR_RETURN(s3::GetResult copy, store.get(config.ops_bucket, object.undeliverable_key));
  const Sha256Digest digest = sha256(copy.body);
  if (hex_encode(digest) != object.sha256) {
    return Error::invalid_data("undeliverable copy",
                               fmt::format("s3://{}/{} does not have the SHA-256 the manifest recorded",
                                           config.ops_bucket, object.undeliverable_key));
  }
  // The copy is in the format the hour was written in, whatever the settings say now.
  ExportConfig written_as = config;
  written_as.format = prior.format;
  written_as.compression = prior.compression;
  const s3::PutOptions options = object_put_options(written_as, window, object.events, digest);
  ES_ASSIGN_OR_RETURN(const s3::PutResult put, store.put(object.bucket, object.key, copy.body, options));
  object.version_id = put.version_id;
  return ok_status();
}

}  // namespace

Result<HourReport> Exporter::redeliver(const HourWindow& window, const PriorManifest& prior) {
  const std::int64_t started = now_us_();
  ES_ASSIGN_OR_RETURN(auto store, ports_.make_store());
  Manifest next = prior.manifest;
  std::vector<std::string> delivered_copies;
  for (ManifestObject& object : next.objects) {
    if (object.status != ObjectStatus::kUndeliverable) continue;
    Status sent = deliver_copy(*store, config_, window, prior.manifest, object);
    if (!sent.ok()) {
      log::warn("export.still_undeliverable", {{"hour", window.label()},
                                               {"client", object.client},
                                               {"bucket", object.bucket},
                                               {"events", object.events},
                                               {"error", sent.error().to_string()}});
      continue;
    }
    log::info("export.redelivered", {{"hour", window.label()},
                                     {"client", object.client},
                                     {"bucket", object.bucket},
                                     {"events", object.events}});
    delivered_copies.push_back(object.undeliverable_key);
    object.status = ObjectStatus::kDelivered;
    object.error.clear();
    object.undeliverable_key.clear();
    object.delivered_at = format_iso8601_us(now_us_());
    next.events_delivered += object.events;
    next.events_undeliverable -= object.events;
  }

  HourReport report;
  report.window = window;
  report.counts() = next.counts();
  report.clients = next.objects.size();
  report.objects_detail = next.objects;
  report.redelivered = delivered_copies.size();
  report.objects = delivered_copies.size();
  report.manifest_key = manifest_key(window);
  if (!delivered_copies.empty()) {
    // The next revision: the same source, the objects now delivered.
    next.revision = prior.manifest.revision + 1;
    next.reason = RevisionReason::kRedelivery;
    next.history = prior.history();
    next.version = EAGLESENSE_VERSION;
    next.git_commit = std::string(git_commit());
    next.run_id = options_.run_id;
    next.duration_ms = (now_us_() - started) / 1000;
    next.generated_at = format_iso8601_us(now_us_());
    s3::PutOptions ops = encrypted_put_options(config_);
    ops.content_type = "application/json";
    if (!prior.etag.empty()) ops.if_match = prior.etag;  // over the revision it follows, nothing else
    ES_TRY(put_manifest(*store, config_.ops_bucket, report.manifest_key, render_manifest(next), ops));
    report.revision = next.revision;
    report.reason = next.reason;
    // Only once the manifest no longer points at them: a copy is never deleted while it is the one
    // the hour's record names.
    Status removed = store->remove(config_.ops_bucket, delivered_copies);
    if (!removed.ok()) {
      log::warn("export.stale_copies_left", {{"hour", window.label()},
                                             {"copies", delivered_copies.size()},
                                             {"error", removed.error().to_string()}});
    }
  }
  const aws::CallStats stats = store->stats();
  report.requests = stats.requests;
  report.retries = stats.retries;
  report.throttles = stats.throttles;
  report.duration_ms = (now_us_() - started) / 1000;
  report.status = report.events_undeliverable > 0 ? HourStatus::kUndeliverable : HourStatus::kExported;
  log::info("export.hour_done", {{"hour", window.label()},
                                 {"status", to_string(report.status)},
                                 {"redelivered", report.redelivered},
                                 {"events_undeliverable", report.events_undeliverable}});
  return report;
}

}  // namespace es::exporter
