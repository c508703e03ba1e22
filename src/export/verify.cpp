#include "export/verify.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/event_json.h"
#include "core/hash.h"
#include "core/log.h"
#include "export/exporter.h"
#include "export/hour_reader.h"

namespace es::exporter {
namespace {

std::string s3_location(std::string_view bucket, std::string_view key) {
  return fmt::format("s3://{}/{}", bucket, key);
}

/// Counts the elements of the rejected file (a JSON array).
Result<std::uint64_t> count_rejected(const std::string& body) {
  return count_json_array_elements(body, "rejected file");
}

/// The state of one verify_hour call.
class HourVerifier {
 public:
  HourVerifier(const ExportConfig& config, const VerifyOptions& options, VerifyReport& report,
               ObjectStore& store)
      : config_(config), options_(options), report_(report), store_(store) {}

  void finding(std::string client, std::string location, std::string check, std::string message) {
    VerifyFinding f;
    f.client = std::move(client);
    f.location = std::move(location);
    f.check = std::move(check);
    f.message = std::move(message);
    report_.findings.push_back(std::move(f));
  }

  /// Fetches one object; std::nullopt when it is missing (a finding), an Error when it cannot be read.
  Result<std::optional<s3::GetResult>> fetch(const std::string& client, std::string_view bucket,
                                             std::string_view key) {
    auto got = store_.get(bucket, key);
    if (got.ok()) return std::optional<s3::GetResult>(std::move(got).value());
    const Error& e = got.error();
    const std::string location = s3_location(bucket, key);
    if (e.kind == ErrorKind::kNotFound) {
      finding(client, location, "missing",
              fmt::format("object missing ({})", e.code.empty() ? "not found" : e.code));
      return std::optional<s3::GetResult>();
    }
    if (e.kind == ErrorKind::kInvalidData) {
      // S3 returned bytes that do not match the checksum it stored with the object.
      finding(client, location, "sha256",
              fmt::format("S3 could not return the object intact: {}", e.message));
      return std::optional<s3::GetResult>();
    }
    return Error(e).with_context("verify", location);
  }

  Result<std::uint64_t> check_object(const ManifestObject& o, std::optional<OutputFormat> format,
                                     std::optional<Compression> compression) {
    const bool delivered = o.status == ObjectStatus::kDelivered;
    const std::string bucket = delivered ? o.bucket : config_.ops_bucket;
    const std::string key = delivered ? o.key : o.undeliverable_key;
    VerifiedObject& v = report_.objects.emplace_back();
    v.client = o.client;
    v.status = std::string(to_string(o.status));
    v.location = s3_location(bucket, key);
    if (key.empty()) {
      finding(o.client, "", "manifest", fmt::format("the {} object has no key in the manifest", v.status));
      return std::uint64_t{0};
    }
    ES_ASSIGN_OR_RETURN(auto got, fetch(o.client, bucket, key));
    if (!got) return std::uint64_t{0};
    const std::string& body = got->body;
    v.found = true;
    v.bytes = body.size();
    if (body.size() != o.bytes) {
      finding(o.client, v.location, "bytes",
              fmt::format("manifest {} bytes, object {} bytes", o.bytes, body.size()));
    }
    const std::string digest = hex_encode(sha256(body));
    if (digest != o.sha256) {
      finding(o.client, v.location, "sha256", fmt::format("manifest {}, object {}", o.sha256, digest));
    }
    if (auto it = got->metadata.find("event-count");
        it != got->metadata.end() && it->second != std::to_string(o.events)) {
      finding(o.client, v.location, "metadata",
              fmt::format("metadata event-count {}, manifest {} events", it->second, o.events));
    }
    if (!format || !compression) return std::uint64_t{0};
    auto content = read_object_content(body, *format, *compression, report_.window, config_.time_attr,
                                       config_.id_attr, options_.max_object_bytes);
    if (!content.ok()) {
      finding(o.client, v.location, "format", content.error().message);
      return std::uint64_t{0};
    }
    v.events = content->events;
    if (content->events != o.events) {
      finding(o.client, v.location, "events",
              fmt::format("manifest {} events, object {}", o.events, content->events));
    }
    if (content->events > 0 && content->min_time_us != o.min_time_us) {
      finding(o.client, v.location, "min_time",
              fmt::format("manifest {}, object {}", format_iso8601_us(o.min_time_us),
                          format_iso8601_us(content->min_time_us)));
    }
    if (content->events > 0 && content->max_time_us != o.max_time_us) {
      finding(o.client, v.location, "max_time",
              fmt::format("manifest {}, object {}", format_iso8601_us(o.max_time_us),
                          format_iso8601_us(content->max_time_us)));
    }
    for (auto& [check, message] : content->problems) finding(o.client, v.location, check, std::move(message));
    return content->events;
  }

  Result<std::uint64_t> check_rejected(const Manifest& m) {
    if (m.rejected_key.empty()) {
      if (m.events_rejected > 0) {
        finding(
            "", "", "rejected",
            fmt::format("manifest counts {} rejected events but names no rejected file", m.events_rejected));
      }
      return std::uint64_t{0};
    }
    VerifiedObject& v = report_.objects.emplace_back();
    v.status = "rejected";
    v.location = s3_location(config_.ops_bucket, m.rejected_key);
    ES_ASSIGN_OR_RETURN(auto got, fetch("", config_.ops_bucket, m.rejected_key));
    if (!got) return std::uint64_t{0};
    v.found = true;
    v.bytes = got->body.size();
    auto count = count_rejected(got->body);
    if (!count.ok()) {
      finding("", v.location, "rejected", count.error().message);
      return std::uint64_t{0};
    }
    v.events = *count;
    if (*count != m.events_rejected) {
      finding("", v.location, "rejected",
              fmt::format("manifest {} rejected events, file {}", m.events_rejected, *count));
    }
    return *count;
  }

  Status check_source(const Manifest& m, const Ports& ports) {
    const int reader_threads =
        std::min(config_.read_mode == ReadMode::kQuery ? config_.shards : config_.segments, config_.segments);
    const MemoryPlan plan = plan_memory(config_, ExportOptions{}, reader_threads);
    ES_ASSIGN_OR_RETURN(ReadResult read, read_hour(report_.window, config_, ports, nullptr, plan.read));
    std::map<std::string, std::uint64_t, std::less<>> counts;
    for (const auto& partition : read.partitions) {
      for (const auto& [client, events] : partition) counts[client] += events.events.size();
    }
    for (const auto& [client, runs] : read.runs) {
      for (const SpilledRun& run : runs) counts[client] += run.events;
    }
    report_.source_checked = true;
    report_.source_events_read = read.events_read;
    const std::string table = fmt::format("dynamodb://{}", config_.table);
    for (const ManifestObject& o : m.objects) {
      auto it = counts.find(o.client);
      const std::uint64_t now = it == counts.end() ? 0 : it->second;
      if (now != o.events) {
        finding(
            o.client, table, "source",
            fmt::format("manifest {} events, DynamoDB {} events of the client in the hour", o.events, now));
      }
      if (it != counts.end()) counts.erase(it);
    }
    for (const auto& [client, n] : counts) {
      finding(client, table, "source",
              fmt::format("DynamoDB {} events of the client in the hour, the manifest names no object", n));
    }
    if (read.rejected.size() != m.events_rejected) {
      finding("", table, "source",
              fmt::format("manifest {} rejected events, DynamoDB {} now", m.events_rejected,
                          read.rejected.size()));
    }
    return ok_status();
  }

 private:
  const ExportConfig& config_;
  const VerifyOptions& options_;
  VerifyReport& report_;
  ObjectStore& store_;
};

}  // namespace

Result<VerifyReport> verify_hour(const HourWindow& window, const ExportConfig& config, const Ports& ports,
                                 const VerifyOptions& options) {
  VerifyReport report;
  report.window = window;
  const std::string key = manifest_key(window);
  report.manifest_location = s3_location(config.ops_bucket, key);
  ES_ASSIGN_OR_RETURN(auto store, ports.make_store());
  HourVerifier verifier(config, options, report, *store);

  auto got = store->get(config.ops_bucket, key);
  if (!got.ok()) {
    const Error& e = got.error();
    if (e.kind == ErrorKind::kNotFound && e.code != "NoSuchBucket") {
      verifier.finding("", report.manifest_location, "manifest",
                       fmt::format("hour not exported (no manifest at {})", report.manifest_location));
      return report;
    }
    return std::move(got).error().with_context("verify", report.manifest_location);
  }
  report.manifest_found = true;
  auto parsed = parse_manifest(got->body);
  if (!parsed.ok()) {
    verifier.finding("", report.manifest_location, "manifest",
                     fmt::format("the manifest does not parse: {}", parsed.error().message));
    return report;
  }
  report.manifest = std::move(parsed).value();
  const Manifest& m = report.manifest;
  if (m.window.start_us != window.start_us) {
    verifier.finding("", report.manifest_location, "manifest",
                     fmt::format("the manifest is for hour {}", m.window.label()));
  }
  // An unknown status, format or compression fails parse_manifest above, naming the field.
  const std::optional<OutputFormat> format = m.format;
  const std::optional<Compression> compression = m.compression;

  std::uint64_t listed_delivered = 0;
  std::uint64_t listed_undeliverable = 0;
  for (const ManifestObject& o : m.objects) {
    ES_ASSIGN_OR_RETURN(const std::uint64_t counted, verifier.check_object(o, format, compression));
    report.events_counted += counted;
    (o.status == ObjectStatus::kDelivered ? listed_delivered : listed_undeliverable) += o.events;
  }
  ES_ASSIGN_OR_RETURN(const std::uint64_t rejected, verifier.check_rejected(m));
  report.events_counted += rejected;

  // The accounting: read = delivered + rejected + undeliverable, in the manifest's figures and in
  // what the objects hold.
  if (m.events_read != m.events_delivered + m.events_rejected + m.events_undeliverable) {
    verifier.finding(
        "", report.manifest_location, "accounting",
        fmt::format("manifest events_read {} != delivered {} + rejected {} + undeliverable {}", m.events_read,
                    m.events_delivered, m.events_rejected, m.events_undeliverable));
  }
  if (listed_delivered != m.events_delivered) {
    verifier.finding("", report.manifest_location, "accounting",
                     fmt::format("manifest events_delivered {}, its delivered objects list {}",
                                 m.events_delivered, listed_delivered));
  }
  if (listed_undeliverable != m.events_undeliverable) {
    verifier.finding("", report.manifest_location, "accounting",
                     fmt::format("manifest events_undeliverable {}, its undeliverable objects list {}",
                                 m.events_undeliverable, listed_undeliverable));
  }
  if (report.events_counted != m.events_read) {
    verifier.finding("", report.manifest_location, "accounting",
                     fmt::format("manifest events_read {}, the objects and the rejected file hold {}",
                                 m.events_read, report.events_counted));
  }

  if (options.source) ES_TRY(verifier.check_source(m, ports));

  for (VerifiedObject& v : report.objects) {
    v.ok = v.found && std::none_of(report.findings.begin(), report.findings.end(),
                                   [&](const VerifyFinding& f) { return f.location == v.location; });
  }
  log::info("verify.hour_done", {{"hour", window.label()},
                                 {"objects", static_cast<std::uint64_t>(report.objects.size())},
                                 {"events_counted", report.events_counted},
                                 {"findings", static_cast<std::uint64_t>(report.findings.size())}});
  return report;
}

}  // namespace es::exporter
