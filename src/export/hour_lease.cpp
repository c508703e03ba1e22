#include "export/hour_lease.h"

#include <array>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>

#include "core/json_reader.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "export/put_options.h"

namespace es::exporter {
namespace {

/// Rounds of "create, else look, else take over" before giving up: each round ends only when the
/// lease changed hands (or vanished) between two of our requests, which a quiet hour never sees.
constexpr int kAcquireRounds = 4;

/// Per process and ops bucket: whether the server honours conditional writes (probed once).
std::mutex probe_mutex;
std::map<std::string, bool, std::less<>> probed_buckets;  // NOLINT: process-wide cache, under probe_mutex

bool is_conflict(const Error& e) {
  return e.kind == ErrorKind::kConflict;
}

Result<int> two_digits(std::string_view text, std::size_t at) {
  if (at + 2 > text.size() || text[at] < '0' || text[at] > '9' || text[at + 1] < '0' || text[at + 1] > '9') {
    return Error::invalid_data(std::string(text),
                               "not an HTTP date (expected \"Sun, 29 Nov 2026 10:00:00 GMT\")");
  }
  return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

}  // namespace

std::string lease_key(const HourWindow& window) {
  return fmt::format("locks/{}.json", window.label());
}

std::string render_lease(const LeaseBody& lease) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.key("run_id").value(lease.run_id);
  w.key("holder").value(lease.holder);
  w.key("acquired_at").value(format_iso8601_us(lease.acquired_us));
  w.key("expires_at").value(format_iso8601_us(lease.expires_us));
  w.end_object();
  out += '\n';
  return out;
}

Result<LeaseBody> parse_lease(std::string_view json) {
  ES_ASSIGN_OR_RETURN(const json::Value doc, json::parse_document(json, "lease"));
  LeaseBody lease;
  ES_ASSIGN_OR_RETURN(const std::string_view run_id, doc.string("run_id"));
  if (run_id.empty()) return doc["run_id"]->error("is empty");
  lease.run_id = std::string(run_id);
  ES_ASSIGN_OR_RETURN(lease.holder, doc.string_or_empty("holder"));
  ES_ASSIGN_OR_RETURN(lease.acquired_us, doc.instant("acquired_at"));
  ES_ASSIGN_OR_RETURN(lease.expires_us, doc.instant("expires_at"));
  return lease;
}

Result<std::int64_t> parse_http_date_us(std::string_view text) {
  // "Sun, 29 Nov 2026 10:00:00 GMT": the one form RFC 9110 says a server sends.
  constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Error bad =
      Error::invalid_data(std::string(text), "not an HTTP date (expected \"Sun, 29 Nov 2026 10:00:00 GMT\")");
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") return bad;
  unsigned month = 0;
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    if (text.substr(8, 3) == kMonths[m]) month = static_cast<unsigned>(m + 1);
  }
  if (month == 0 || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' || text[19] != ':' ||
      text[22] != ':') {
    return bad;
  }
  ES_ASSIGN_OR_RETURN(const int day, two_digits(text, 5));
  ES_ASSIGN_OR_RETURN(const int century, two_digits(text, 12));
  ES_ASSIGN_OR_RETURN(const int year_in_century, two_digits(text, 14));
  ES_ASSIGN_OR_RETURN(const int hour, two_digits(text, 17));
  ES_ASSIGN_OR_RETURN(const int minute, two_digits(text, 20));
  ES_ASSIGN_OR_RETURN(const int second, two_digits(text, 23));
  const std::int64_t year = century * 100 + year_in_century;
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 59) {
    return bad;
  }
  const std::int64_t days = days_from_civil(year, month, static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60 * kMicrosPerSecond + second * kMicrosPerSecond;
}

std::string this_process_holder() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return fmt::format("host {} pid {}", host.data(), ::getpid());
}

HourLeases::HourLeases(ObjectStore& store, const ExportConfig& config, LeaseTerms terms,
                       std::function<std::int64_t()> now_us)
    : store_(store),
      bucket_(config.ops_bucket),
      put_options_(encrypted_put_options(config)),
      terms_(std::move(terms)),
      now_us_(std::move(now_us)) {
  put_options_.content_type = "application/json";
}

Result<s3::PutResult> HourLeases::write(const HourWindow& window, std::string_view if_match,
                                        LeaseBody& body) {
  body.run_id = terms_.run_id;
  body.holder = terms_.holder;
  body.acquired_us = now_us_();
  body.expires_us = body.acquired_us + terms_.ttl_us;
  s3::PutOptions options = put_options_;
  options.if_none_match = if_match.empty();
  options.if_match = std::string(if_match);
  return store_.put(bucket_, lease_key(window), render_lease(body), options);
}

Result<bool> HourLeases::conditions_honoured() {
  {
    std::lock_guard lock(probe_mutex);
    if (const auto it = probed_buckets.find(bucket_); it != probed_buckets.end()) return it->second;
  }
  // The same key written twice with If-None-Match: * must be refused the second time.
  const std::string key = fmt::format("locks/.probe-{}", terms_.run_id);
  s3::PutOptions options = put_options_;
  options.if_none_match = true;
  const std::string body = fmt::format("{{\"probe\":\"{}\"}}\n", terms_.run_id);
  ES_TRY(store_.put(bucket_, key, body, options));
  Result<s3::PutResult> again = store_.put(bucket_, key, body, options);
  if (!again.ok() && !is_conflict(again.error())) return std::move(again).error();
  const bool honoured = !again.ok();
  if (Status removed = store_.remove(bucket_, {key}); !removed.ok()) {
    log::warn("lease.probe_not_deleted", {{"key", key}, {"error", removed.error().to_string()}});
  }
  std::lock_guard lock(probe_mutex);
  const auto [it, first] = probed_buckets.emplace(bucket_, honoured);
  if (first && !honoured) {
    log::warn("lease.conditions_ignored",
              {{"bucket", bucket_},
               {"message",
                "the ops bucket's server ignores conditional writes (If-None-Match): hour leases cannot "
                "keep two runs of one hour apart on it; the run goes on without them"}});
  }
  return it->second;
}

Result<HourLease> HourLeases::acquire(const HourWindow& window) {
  HourLease out;
  ES_ASSIGN_OR_RETURN(const bool honoured, conditions_honoured());
  if (!honoured) {
    out.acquired = true;  // nothing to hold: the server could not keep it
    return out;
  }
  const std::string key = lease_key(window);
  for (int round = 0; round < kAcquireRounds; ++round) {
    LeaseBody mine;
    Result<s3::PutResult> created = write(window, {}, mine);
    if (created.ok()) {
      out.acquired = true;
      out.etag = created->etag;
      log::debug("lease.acquired", {{"hour", window.label()}, {"run_id", terms_.run_id}});
      return out;
    }
    if (!is_conflict(created.error())) return std::move(created).error();

    // Someone holds it: read whose, and until when.
    Result<s3::GetResult> current = store_.get(bucket_, key);
    if (!current.ok()) {
      if (current.error().kind == ErrorKind::kNotFound) continue;  // released meanwhile: try again
      return std::move(current).error();
    }
    std::int64_t expires_us = 0;
    Result<LeaseBody> theirs = parse_lease(current->body);
    if (theirs.ok()) {
      if (theirs->run_id == terms_.run_id) {
        out.acquired = true;
        out.etag = current->etag;
        return out;
      }
      expires_us = theirs->expires_us;
      out.holder_run_id = theirs->run_id;
      out.holder = theirs->holder;
    } else {
      // Held for one lease duration from its last write, as if it were ours; a lease without a
      // readable date cannot be judged at all, and is taken over.
      const Result<std::int64_t> written = parse_http_date_us(current->last_modified);
      expires_us = written.ok() ? *written + terms_.ttl_us : 0;
      out.holder = "unreadable lease";
      log::warn("lease.unreadable", {{"hour", window.label()},
                                     {"key", key},
                                     {"last_modified", current->last_modified},
                                     {"error", theirs.error().to_string()}});
    }
    if (now_us_() < expires_us) {
      out.until_us = expires_us;
      return out;
    }

    // Expired: take it over, only if nobody else did since we read it.
    Result<s3::PutResult> taken = write(window, current->etag, mine);
    if (taken.ok()) {
      log::warn("lease.taken_over", {{"hour", window.label()},
                                     {"run_id", terms_.run_id},
                                     {"previous_run_id", out.holder_run_id},
                                     {"previous_expired_at", format_iso8601_us(expires_us)}});
      HourLease ours;
      ours.acquired = true;
      ours.taken_over = true;
      ours.etag = taken->etag;
      return ours;
    }
    const Error& e = taken.error();
    if (!is_conflict(e) && e.kind != ErrorKind::kNotFound) return std::move(taken).error();
    // Another run took it over (or it was deleted) between our read and our write: look again.
    out = HourLease{};
  }
  return Error::io(
             fmt::format("{}/{}", bucket_, key),
             fmt::format("the lease changed hands {} times while this run tried to take it", kAcquireRounds))
      .with_context("lease");
}

Status HourLeases::release(const HourWindow& window, const HourLease& lease) {
  if (lease.etag.empty()) return ok_status();  // no lease was written (the server ignores conditions)
  // Clean-up: an hour the deadline stopped still gives its lease back.
  const Deadline::CleanupScope cleanup;
  Status removed = store_.remove_if_match(bucket_, lease_key(window), lease.etag);
  if (removed.ok() || removed.error().kind == ErrorKind::kNotFound) return ok_status();
  if (is_conflict(removed.error())) {
    // Ours expired while the hour ran and another run took it over: the lease is theirs now.
    log::warn("lease.lost",
              {{"hour", window.label()},
               {"run_id", terms_.run_id},
               {"message", "the lease expired while the hour ran and another run took it over"}});
    return ok_status();
  }
  return removed;
}

Status HourLeases::release_held_by(const HourWindow& window, std::string_view run_id) {
  const Deadline::CleanupScope cleanup;
  Result<s3::GetResult> current = store_.get(bucket_, lease_key(window));
  if (!current.ok()) {
    if (current.error().kind == ErrorKind::kNotFound) return ok_status();
    return std::move(current).error();
  }
  Result<LeaseBody> theirs = parse_lease(current->body);
  if (!theirs.ok() || theirs->run_id != run_id) {
    log::warn("lease.lost", {{"hour", window.label()},
                             {"run_id", std::string(run_id)},
                             {"holder_run_id", theirs.ok() ? theirs->run_id : std::string("unreadable")}});
    return ok_status();
  }
  HourLease lease;
  lease.acquired = true;
  lease.etag = current->etag;
  return release(window, lease);
}

Result<std::optional<LeaseBody>> read_lease(ObjectStore& store, std::string_view bucket,
                                            const HourWindow& window) {
  Result<s3::GetResult> current = store.get(bucket, lease_key(window));
  if (!current.ok()) {
    if (current.error().kind == ErrorKind::kNotFound) return std::optional<LeaseBody>();
    return std::move(current).error();
  }
  ES_ASSIGN_OR_RETURN(LeaseBody body, parse_lease(current->body));
  return std::optional<LeaseBody>(std::move(body));
}

}  // namespace es::exporter
