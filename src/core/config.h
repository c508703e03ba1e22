#pragma once
/// Export settings: one table of every setting (environment name, flag, default, allowed values),
/// and validation that names the setting and what is allowed. Precedence, lowest first:
/// defaults < config file (EAGLESENSE_CONFIG / --config, KEY=VALUE lines) < environment < flags.
/// Pure: the caller layers the sources into one EnvLookup.

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/names.h"
#include "core/output_format.h"
#include "core/result.h"

namespace es {

/// How an hour is read (EAGLESENSE_READ_MODE): a parallel Scan of any table, or Queries of the
/// hour-shard index.
enum class ReadMode { kScan, kQuery };
inline constexpr std::array<Named<ReadMode>, 2> kReadModeNames = {{
    {ReadMode::kScan, "scan"},
    {ReadMode::kQuery, "query"},
}};
[[nodiscard]] inline std::string_view to_string(ReadMode m) {
  return name_of(kReadModeNames, m);
}

/// Where a run's metrics go (EAGLESENSE_METRICS): nowhere, an Embedded Metric Format record in the
/// log, or that record and a PutMetricData call.
enum class MetricsMode { kNone, kEmf, kCloudWatch };
inline constexpr std::array<Named<MetricsMode>, 3> kMetricsModeNames = {{
    {MetricsMode::kNone, "none"},
    {MetricsMode::kEmf, "emf"},
    {MetricsMode::kCloudWatch, "cloudwatch"},
}};
[[nodiscard]] inline std::string_view to_string(MetricsMode m) {
  return name_of(kMetricsModeNames, m);
}

/// What a scheduled Lambda run publishes after its hours (EAGLESENSE_REPORT): the status report of the
/// last 7 days (reports/last-7-days.html and .json in the ops bucket), or nothing.
enum class ReportMode { kNone, kLast7Days };
inline constexpr std::array<Named<ReportMode>, 2> kReportModeNames = {{
    {ReportMode::kNone, "none"},
    {ReportMode::kLast7Days, "last-7-days"},
}};
[[nodiscard]] inline std::string_view to_string(ReportMode m) {
  return name_of(kReportModeNames, m);
}

/// Server-side encryption of every object written (EAGLESENSE_SSE): SSE-S3, or SSE-KMS with
/// EAGLESENSE_KMS_KEY_ID (or the account's aws/s3 key).
enum class Sse { kAes256, kKms };
inline constexpr std::array<Named<Sse>, 2> kSseNames = {{
    {Sse::kAes256, "AES256"},
    {Sse::kKms, "aws:kms"},
}};
[[nodiscard]] inline std::string_view to_string(Sse s) {
  return name_of(kSseNames, s);
}

/// One setting as the user sees it.
struct SettingSpec {
  std::string_view env;            ///< "DYNAMODB_TABLE_NAME"
  std::string_view flag;           ///< "--table"
  std::string_view default_value;  ///< shown by --help; "" when none
  std::string_view help;
};

/// Every setting of `eaglesense run` (and the Lambda), in --help order.
std::span<const SettingSpec> export_settings();

/// EAGLESENSE_LEASE_SECONDS of `eaglesense run` when not set: an hour (runs of one hour take minutes).
inline constexpr int kDefaultLeaseSeconds = 3600;

struct ExportConfig {
  std::string table = "events";
  std::string bucket_prefix = "client-events";
  std::string ops_bucket;  ///< default "{bucket_prefix}-ops"
  OutputFormat format = OutputFormat::kJson;
  Compression compression = Compression::kNone;
  ReadMode read_mode = ReadMode::kScan;
  int segments = 8;
  /// EAGLESENSE_CONSISTENT_READ: strongly consistent Scans and Queries (an item written just before the
  /// read is seen; twice the read capacity). Off: eventually consistent, and the catch-up's recheck
  /// brings in what a read missed.
  bool consistent_read = false;
  int shards = 16;
  std::string index_name = "hourShard-time-index";
  std::string shard_attr = "hourShard";
  std::string client_attr = "clientId";
  std::string time_attr = "time";
  std::string id_attr = "eventId";
  std::vector<std::string> required_attrs = {"eventId", "clientId", "time"};
  Sse sse = Sse::kAes256;
  std::string kms_key_id;
  /// EAGLESENSE_EXPECTED_BUCKET_OWNER: x-amz-expected-bucket-owner of every request to a client
  /// bucket; "" sends none. expected_bucket_owner_given: the setting was given (an id, or "none"),
  /// so the Lambda does not default it to its own account.
  std::string expected_bucket_owner;
  bool expected_bucket_owner_given = false;
  /// EAGLESENSE_OPS_BUCKET_OWNER: the same for the ops bucket; when not given, the expected owner.
  std::string ops_bucket_owner;
  bool ops_bucket_owner_given = false;
  int upload_concurrency = 16;
  std::uint64_t multipart_threshold_bytes = 64ULL << 20;
  std::uint64_t part_size_bytes = 16ULL << 20;
  int max_attempts = 8;  ///< AWS_MAX_ATTEMPTS
  std::string log_level = "info";
  /// EAGLESENSE_INSECURE_TLS=true: only for testing against servers on this machine; refused unless
  /// every endpoint is a loopback address.
  bool insecure_tls = false;
  std::string ca_bundle;  ///< AWS_CA_BUNDLE
  /// EAGLESENSE_METRICS; std::nullopt when not set: each command picks its default (run: none,
  /// lambda: emf).
  std::optional<MetricsMode> metrics;
  /// EAGLESENSE_CATCH_UP_HOURS (lambda): a scheduled run also exports the incomplete hours among the
  /// N hours before its own. 0 turns catch-up off.
  int catch_up_hours = 6;
  /// EAGLESENSE_HOUR_BUDGET_SECONDS (lambda): no new hour is started with less time left than this
  /// before the invocation's deadline.
  int hour_budget_seconds = 120;
  /// EAGLESENSE_REPORT (lambda): after a scheduled run, the status report of the last 7 days.
  ReportMode report = ReportMode::kLast7Days;
  /// EAGLESENSE_STATE_MACHINE_ARN (lambda): the scale-out state machine an hour stopped by the
  /// invocation's deadline is handed to; empty: none (such an hour fails).
  std::string state_machine_arn;
  /// EAGLESENSE_LEASE_SECONDS: how long a run holds each hour's lease (export/hour_lease.h);
  /// std::nullopt when not set: run holds it kDefaultLeaseSeconds, the Lambda until its deadline
  /// and a minute more.
  std::optional<int> lease_seconds;
  /// EAGLESENSE_MEMORY_MB: the memory budget of an hour; past it, reader threads spill sorted runs.
  std::uint64_t memory_mb = 192;
  /// EAGLESENSE_SPILL_DIR (default $TMPDIR, else /tmp): where spilled runs go.
  std::string spill_dir = "/tmp";

  /// EAGLESENSE_RESERVED_BUCKETS: buckets no client may write into, besides the ops bucket (the
  /// deployment's artifact bucket, other tenants' buckets that share the prefix).
  std::vector<std::string> reserved_buckets;

  /// EAGLESENSE_CLIENTS: the onboarded clients; std::nullopt lets every valid client through. The
  /// inline form is parsed at load; the s3:// form is named by clients_object and read once per
  /// run (exporter::load_client_allow_list) before any hour is read.
  std::optional<std::set<std::string, std::less<>>> allowed_clients;
  std::string clients_object;  ///< "s3://bucket/key", or ""

  /// Why client's events must be rejected as client_not_allowed, or std::nullopt.
  [[nodiscard]] std::optional<std::string> client_not_allowed_reason(std::string_view client) const;
  /// The x-amz-expected-bucket-owner of requests to bucket: the ops bucket's owner, or the
  /// expected owner of client buckets (and of any other bucket read, such as the allow-list's).
  [[nodiscard]] const std::string& bucket_owner(std::string_view bucket) const;
  /// The Lambda's default: account (its own) becomes the expected owner, and the ops bucket's,
  /// unless the settings were given.
  void default_bucket_owner(std::string_view account);

  /// Why client must not be written to its bucket ("{prefix}-{client}" is the ops bucket or a
  /// reserved one), or std::nullopt. Such events are rejected as reserved_bucket.
  [[nodiscard]] std::optional<std::string> reserved_bucket_reason(std::string_view client) const;
  /// "client-events-acme": the bucket of client (no validation; see validate_client_id).
  [[nodiscard]] std::string client_bucket(std::string_view client) const;
  /// "events-2026-11-29-10.json[.gz|.zst]" for the hour label "2026-11-29-10".
  [[nodiscard]] std::string object_key(std::string_view hour_key_part) const;
};

/// Reads every setting from env (already layered: file < environment < flags) and validates it.
/// Error kind kInvalidArgument; Error::resource is the setting's name; the message says what is
/// allowed, e.g. "OUTPUT_FORMAT: 'xml' is not one of json, ndjson, csv".
[[nodiscard]] Result<ExportConfig> load_export_config(const EnvLookup& env);

/// Parses a config file of KEY=VALUE lines ('#' comments, blank lines, optional quotes, optional
/// "export "). Unknown keys are an error naming the line, so a typo never passes silently.
[[nodiscard]] Result<std::map<std::string, std::string, std::less<>>> parse_config_file(
    std::string_view text, std::string_view path);

/// Why a client id cannot be exported, or std::nullopt when it is fine. The bucket
/// "{prefix}-{client}" must be a valid S3 bucket name (3-63 characters of a-z 0-9 . -, starting and
/// ending with a letter or digit, no "..", not an IP address), and the id may hold no '/', no
/// control characters, no upper case.
[[nodiscard]] std::optional<std::string> validate_client_id(std::string_view client,
                                                            std::string_view bucket_prefix);

/// The client ids of an allow-list (one per line or comma-separated; '#' starts a comment), each
/// checked with validate_client_id; an error names setting. An empty list is an error.
[[nodiscard]] Result<std::set<std::string, std::less<>>> parse_client_list(std::string_view text,
                                                                           std::string_view bucket_prefix,
                                                                           std::string_view setting);

/// True when url's host is a loopback address: 127.0.0.0/8, [::1] or localhost.
[[nodiscard]] bool is_loopback_endpoint(std::string_view url);

/// Checks a bucket name against S3's rules (general purpose buckets).
[[nodiscard]] std::optional<std::string> validate_bucket_name(std::string_view bucket);

/// Checks a Step Functions state machine ARN: arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME,
/// a 12-digit account and a name of 1-80 letters, digits, '-' or '_'. What is wrong, or nullopt.
[[nodiscard]] std::optional<std::string> validate_state_machine_arn(std::string_view arn);

}  // namespace es
