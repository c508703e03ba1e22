#pragma once
/// One run per hour at a time: a lease on an hour is the object locks/YYYY-MM-DDTHH.json in the ops
/// bucket, created with If-None-Match: * and holding the run id and an expiry. A run that finds an
/// unexpired lease leaves the hour to its holder; an expired one is taken over with If-Match on its
/// ETag, so that of two runs taking over the same lease only one wins. The holder deletes it when
/// done (If-Match on its own ETag: a lease someone took over after ours expired stays theirs).
///
/// A lease whose document cannot be read (another program, a damaged write) is held until its
/// Last-Modified plus our lease duration, then taken over like an expired one; without a readable
/// Last-Modified it is taken over at once. A server that ignores conditional writes (s3rver) cannot
/// keep runs apart: that is probed once per process and ops bucket, warned about once
/// (lease.conditions_ignored), and no lease is written there (docs/RELIABILITY.md).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "core/time.h"
#include "export/ports.h"

namespace es::exporter {

/// "locks/2026-11-29T10.json"
[[nodiscard]] std::string lease_key(const HourWindow& window);

/// A lease document.
struct LeaseBody {
  std::string run_id;
  std::string holder;  ///< who runs it: "host H pid P", "lambda request R"
  std::int64_t acquired_us = 0;
  std::int64_t expires_us = 0;
};
/// {"run_id","holder","acquired_at","expires_at"} (ISO-8601 instants).
[[nodiscard]] std::string render_lease(const LeaseBody& lease);
/// Reads back render_lease's output; kInvalidData naming the "lease" document and the field.
[[nodiscard]] Result<LeaseBody> parse_lease(std::string_view json);

/// window's lease as it is stored in bucket, or nullopt when there is none. An error when it cannot
/// be read or parsed.
[[nodiscard]] Result<std::optional<LeaseBody>> read_lease(ObjectStore& store, std::string_view bucket,
                                                          const HourWindow& window);

/// Parses an HTTP date (IMF-fixdate, "Sun, 29 Nov 2026 10:00:00 GMT": S3's Last-Modified).
[[nodiscard]] Result<std::int64_t> parse_http_date_us(std::string_view text);

/// "host H pid P": the holder description of a CLI run.
[[nodiscard]] std::string this_process_holder();

/// Who takes leases, and for how long each lasts from when it is taken.
struct LeaseTerms {
  std::string run_id;  ///< required
  std::string holder;
  std::int64_t ttl_us = 3600 * kMicrosPerSecond;
};

/// What acquire() found.
struct HourLease {
  bool acquired = false;    ///< ours now (etag set), or none needed (conditions ignored)
  bool taken_over = false;  ///< acquired from a holder whose lease had expired
  std::string etag;         ///< of our lease document; empty when no lease was written
  // When not acquired: the lease's holder, and until when it holds the hour.
  std::string holder_run_id;  ///< empty when its document could not be read
  std::string holder;
  std::int64_t until_us = 0;
};

/// The leases of one run on one ops bucket, through one store (not thread-safe).
class HourLeases {
 public:
  /// Leases in config's ops bucket, written with its encryption.
  HourLeases(ObjectStore& store, const ExportConfig& config, LeaseTerms terms,
             std::function<std::int64_t()> now_us);

  /// Takes window's lease. An hour another run holds is an outcome (acquired false), not an error; a
  /// lease already held by our own run id (a retried request whose answer was lost, a scale-out plan
  /// under `run --workers`) is ours. An Error: the ops bucket could not be read or written.
  [[nodiscard]] Result<HourLease> acquire(const HourWindow& window);

  /// Gives back a lease acquire() returned: deletes it if it is still ours (a lock already gone, or
  /// taken over by another run after ours expired, is left as it is, with a warning for the latter).
  [[nodiscard]] Status release(const HourWindow& window, const HourLease& lease);

  /// Deletes window's lease if run_id holds it (the scale-out finish stage, which does not know the
  /// plan stage's ETag). A lease of another run, or none, is left as it is.
  [[nodiscard]] Status release_held_by(const HourWindow& window, std::string_view run_id);

  /// Whether the ops bucket's server honours If-None-Match (a probe object written twice, then
  /// deleted), asked once per process and bucket; the first answer "no" logs lease.conditions_ignored.
  [[nodiscard]] Result<bool> conditions_honoured();

 private:
  /// PUT of a new lease document for window: If-None-Match: * (etag empty) or If-Match: etag.
  Result<s3::PutResult> write(const HourWindow& window, std::string_view if_match, LeaseBody& body);

  ObjectStore& store_;
  std::string bucket_;
  s3::PutOptions put_options_;
  LeaseTerms terms_;
  std::function<std::int64_t()> now_us_;
};

}  // namespace es::exporter
