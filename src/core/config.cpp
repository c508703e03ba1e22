#include "core/config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "core/log.h"
#include "core/text.h"

namespace es {
namespace {

constexpr std::array<SettingSpec, 39> kSettings = {{
    {"DYNAMODB_TABLE_NAME", "--table", "events", "DynamoDB table holding the events"},
    {"S3_BUCKET_PREFIX", "--bucket-prefix", "client-events", "client buckets are {prefix}-{clientId}"},
    {"EAGLESENSE_OPS_BUCKET", "--ops-bucket", "{prefix}-ops",
     "bucket for manifests, rejected and undeliverable events"},
    {"OUTPUT_FORMAT", "--format", "json", "json (array, one event per line) | ndjson | csv"},
    {"EAGLESENSE_COMPRESSION", "--compression", "none", "none | gzip | zstd"},
    {"EAGLESENSE_READ_MODE", "--read-mode", "scan", "scan (any table) | query (hour-shard GSI)"},
    {"EAGLESENSE_SEGMENTS", "--segments", "8", "parallel Scan segments (1-1000)"},
    {"EAGLESENSE_CONSISTENT_READ", "--consistent-read", "false",
     "true reads with strongly consistent Scans/Queries (twice the read capacity)"},
    {"EAGLESENSE_SHARDS", "--shards", "16", "hour shards per hour in query mode (1-1000)"},
    {"EAGLESENSE_INDEX_NAME", "--index-name", "hourShard-time-index", "GSI used in query mode"},
    {"EAGLESENSE_SHARD_ATTR", "--shard-attr", "hourShard", "hour-shard attribute (query mode)"},
    {"EAGLESENSE_CLIENT_ATTR", "--client-attr", "clientId", "attribute naming the client"},
    {"EAGLESENSE_TIME_ATTR", "--time-attr", "time", "attribute holding the event time"},
    {"EAGLESENSE_ID_ATTR", "--id-attr", "eventId", "attribute holding the event id"},
    {"EAGLESENSE_REQUIRED_ATTRS", "--required-attrs", "eventId,clientId,time",
     "comma-separated attributes every event must have"},
    {"EAGLESENSE_SSE", "--sse", "AES256", "server-side encryption: AES256 | aws:kms"},
    {"EAGLESENSE_KMS_KEY_ID", "--kms-key-id", "", "KMS key for aws:kms (default: the AWS managed key)"},
    {"EAGLESENSE_EXPECTED_BUCKET_OWNER", "--expected-bucket-owner", "",
     "12-digit account id every client bucket must belong to; none sends no owner (lambda default: "
     "the function's own account)"},
    {"EAGLESENSE_OPS_BUCKET_OWNER", "--ops-bucket-owner", "the expected bucket owner",
     "12-digit account id the ops bucket must belong to; none sends no owner"},
    {"EAGLESENSE_CLIENTS", "--allowed-clients", "",
     "allow-list of clients: comma-separated ids, or s3://bucket/key of ids (one a line, # comments); "
     "other clients' events are rejected (client_not_allowed)"},
    {"EAGLESENSE_UPLOAD_CONCURRENCY", "--upload-concurrency", "16", "parallel uploads (1-256)"},
    {"EAGLESENSE_MULTIPART_THRESHOLD_MB", "--multipart-threshold-mb", "64",
     "objects larger than this go up by multipart upload (5-5000)"},
    {"EAGLESENSE_PART_SIZE_MB", "--part-size-mb", "16", "multipart part size (5-5000)"},
    {"AWS_MAX_ATTEMPTS", "--max-attempts", "8", "attempts per AWS request, retries included (1-50)"},
    {"LOG_LEVEL", "--log-level", "info", "debug | info | warn | error"},
    {"EAGLESENSE_RESERVED_BUCKETS", "--reserved-buckets", "",
     "comma-separated buckets no client may write into (the ops bucket always is)"},
    {"EAGLESENSE_INSECURE_TLS", "--insecure-tls", "false",
     "true turns TLS verification off; refused unless every endpoint is a loopback address"},
    {"AWS_CA_BUNDLE", "--ca-bundle", "", "CA certificates file for TLS verification"},
    {"AWS_REGION", "--region", "us-east-1", "AWS region (also AWS_DEFAULT_REGION)"},
    {"AWS_ENDPOINT_URL_DYNAMODB", "--dynamodb-endpoint", "",
     "custom DynamoDB endpoint (also AWS_ENDPOINT_URL)"},
    {"AWS_ENDPOINT_URL_S3", "--s3-endpoint", "", "custom S3 endpoint (also AWS_ENDPOINT_URL)"},
    {"EAGLESENSE_METRICS", "--metrics", "none (run), emf (lambda)",
     "none | emf (Embedded Metric Format record in the log) | cloudwatch (emf and PutMetricData)"},
    {"EAGLESENSE_CATCH_UP_HOURS", "--catch-up-hours", "6",
     "lambda: a scheduled run also exports incomplete hours among the N before its own (0-168)"},
    {"EAGLESENSE_HOUR_BUDGET_SECONDS", "--hour-budget-seconds", "120",
     "lambda: start no new hour with less time than this left before the deadline (1-3600)"},
    {"EAGLESENSE_REPORT", "--report", "last-7-days",
     "lambda: after a scheduled run, write the status report of the last 7 days into the ops bucket "
     "(reports/last-7-days.html and .json); none turns it off"},
    {"EAGLESENSE_STATE_MACHINE_ARN", "--state-machine-arn", "",
     "lambda: the scale-out state machine an hour that cannot finish before the deadline is handed to "
     "(states:StartExecution, execution hour-YYYY-MM-DDTHH); none: such an hour fails"},
    {"EAGLESENSE_LEASE_SECONDS", "--lease-seconds", "3600 (run), time left + 60 (lambda)",
     "how long a run holds each hour's lease before another run may take the hour over (10-86400)"},
    {"EAGLESENSE_MEMORY_MB", "--memory-mb", "192",
     "memory budget of an hour: past it, buffered events spill to sorted runs on disk (16-1048576)"},
    {"EAGLESENSE_SPILL_DIR", "--spill-dir", "$TMPDIR or /tmp", "where spilled runs go (Lambda: /tmp)"},
}};

Error setting_error(std::string_view setting, std::string message) {
  Error e = Error::invalid_argument(std::string(setting), std::move(message));
  e.operation = "config";
  return e;
}

std::optional<std::string> get(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;  // VAR= means "use the default"
  return v;
}

template <typename T>
Status read_int(const EnvLookup& env, std::string_view name, T lo, T hi, T& out) {
  auto v = get(env, name);
  if (!v) return ok_status();
  T parsed{};
  const char* end = v->data() + v->size();
  const auto [ptr, ec] = std::from_chars(v->data(), end, parsed);
  if (ec != std::errc() || ptr != end || parsed < lo || parsed > hi) {
    return setting_error(name, fmt::format("'{}' is not a whole number from {} to {}", *v, lo, hi));
  }
  out = parsed;
  return ok_status();
}

template <typename E, std::size_t N>
Status read_enum(const EnvLookup& env, std::string_view name, const std::array<Named<E>, N>& choices,
                 E& out) {
  auto v = get(env, name);
  if (!v) return ok_status();
  if (auto value = value_named(choices, *v)) {
    out = *value;
    return ok_status();
  }
  return setting_error(name, fmt::format("'{}' is not one of {}", *v, names_of(choices)));
}

/// A setting whose values are the exact names of a traits table (output_format_named and the like).
template <typename E>
Status read_named(const EnvLookup& env, std::string_view name, std::optional<E> (*named)(std::string_view),
                  std::string (*names)(), E& out) {
  auto v = get(env, name);
  if (!v) return ok_status();
  if (auto value = named(*v)) {
    out = *value;
    return ok_status();
  }
  return setting_error(name, fmt::format("'{}' is not one of {}", *v, names()));
}

Status read_bool(const EnvLookup& env, std::string_view name, bool& out) {
  auto v = get(env, name);
  if (!v) return ok_status();
  if (*v == "true" || *v == "1" || *v == "yes") {
    out = true;
  } else if (*v == "false" || *v == "0" || *v == "no") {
    out = false;
  } else {
    return setting_error(name, fmt::format("'{}' is not true or false", *v));
  }
  return ok_status();
}

Status read_attribute_name(const EnvLookup& env, std::string_view name, std::string& out) {
  auto v = get(env, name);
  if (!v) return ok_status();
  if (v->size() > 255) return setting_error(name, "attribute names are at most 255 bytes");
  out = *v;
  return ok_status();
}

/// A 12-digit account id, or "none" (no owner sent); given says the setting was there.
Status read_account(const EnvLookup& env, std::string_view name, std::string& out, bool& given) {
  auto v = get(env, name);
  if (!v) return ok_status();
  given = true;
  if (*v == "none") {
    out.clear();
    return ok_status();
  }
  if (v->size() != 12 || !std::all_of(v->begin(), v->end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return setting_error(name, fmt::format("'{}' is not a 12-digit AWS account id, nor none", *v));
  }
  out = *v;
  return ok_status();
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::span<const SettingSpec> export_settings() {
  return kSettings;
}

std::string ExportConfig::client_bucket(std::string_view client) const {
  return fmt::format("{}-{}", bucket_prefix, client);
}

std::string ExportConfig::object_key(std::string_view hour_key_part) const {
  return fmt::format("events-{}{}", hour_key_part, file_extension(format, compression));
}

std::optional<std::string> validate_state_machine_arn(std::string_view arn) {
  const auto wrong = [arn] {
    return fmt::format("'{}' is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)",
                       arn);
  };
  std::vector<std::string_view> fields;
  std::string_view rest = arn;
  while (fields.size() < 6) {
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) return wrong();
    fields.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  const auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto name_char = [](char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  };
  if (fields[0] != "arn" || fields[1].empty() || fields[2] != "states" || fields[3].empty() ||
      fields[4].size() != 12 || !digits(fields[4]) || fields[5] != "stateMachine" || rest.empty() ||
      rest.size() > 80 || !std::all_of(rest.begin(), rest.end(), name_char)) {
    return wrong();
  }
  return std::nullopt;
}

std::optional<std::string> validate_bucket_name(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) {
    return fmt::format("bucket name '{}' must be 3 to 63 characters long", b);
  }
  for (char c : b) {
    if (!is_lower_alnum(c) && c != '-' && c != '.') {
      return fmt::format("bucket name '{}' may hold only a-z, 0-9, '-' and '.'", b);
    }
  }
  if (!is_lower_alnum(b.front()) || !is_lower_alnum(b.back())) {
    return fmt::format("bucket name '{}' must start and end with a letter or digit", b);
  }
  if (b.find("..") != std::string_view::npos || b.find(".-") != std::string_view::npos ||
      b.find("-.") != std::string_view::npos) {
    return fmt::format("bucket name '{}' has adjacent periods or a period next to a hyphen", b);
  }
  if (b.starts_with("xn--") || b.starts_with("sthree-") || b.ends_with("-s3alias") ||
      b.ends_with("--ol-s3")) {
    return fmt::format("bucket name '{}' uses a prefix or suffix S3 reserves", b);
  }
  int dots = 0;
  bool digits_and_dots = true;
  for (char c : b) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      digits_and_dots = false;
  }
  if (digits_and_dots && dots == 3) return fmt::format("bucket name '{}' looks like an IP address", b);
  return std::nullopt;
}

std::optional<std::string> ExportConfig::reserved_bucket_reason(std::string_view client) const {
  const std::string bucket = client_bucket(client);
  if (bucket == ops_bucket) {
    return fmt::format("client id '{}' would write into the ops bucket {}", client, bucket);
  }
  for (const std::string& reserved : reserved_buckets) {
    if (bucket == reserved) {
      return fmt::format(
          "client id '{}' would write into the reserved bucket {} (EAGLESENSE_RESERVED_BUCKETS)", client,
          bucket);
    }
  }
  return std::nullopt;
}

std::optional<std::string> ExportConfig::client_not_allowed_reason(std::string_view client) const {
  if (!allowed_clients || allowed_clients->contains(client)) return std::nullopt;
  return fmt::format("client id '{}' is not in the allow-list (EAGLESENSE_CLIENTS)", client);
}

const std::string& ExportConfig::bucket_owner(std::string_view bucket) const {
  return bucket == ops_bucket ? ops_bucket_owner : expected_bucket_owner;
}

void ExportConfig::default_bucket_owner(std::string_view account) {
  if (!expected_bucket_owner_given) expected_bucket_owner = account;
  if (!ops_bucket_owner_given) ops_bucket_owner = expected_bucket_owner;
}

Result<std::set<std::string, std::less<>>> parse_client_list(std::string_view text,
                                                             std::string_view bucket_prefix,
                                                             std::string_view setting) {
  std::set<std::string, std::less<>> clients;
  int line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = line.substr(0, line.find('#'));
    while (!line.empty()) {
      const auto comma = line.find(',');
      const std::string_view id = trim(line.substr(0, comma));
      line = comma == std::string_view::npos ? std::string_view() : line.substr(comma + 1);
      if (id.empty()) continue;
      if (auto why = validate_client_id(id, bucket_prefix)) {
        return setting_error(setting, fmt::format("line {}: '{}': {}", line_no, id, *why));
      }
      clients.emplace(id);
    }
  }
  if (clients.empty()) return setting_error(setting, "the allow-list names no client");
  return clients;
}

bool is_loopback_endpoint(std::string_view url) {
  const auto scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view host;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    return host == "::1";
  }
  host = rest.substr(0, rest.find(':'));
  if (text::to_lower(host) == "localhost") return true;
  // 127.0.0.0/8: four decimal octets, the first 127.
  int octets = 0;
  std::string_view h = host;
  while (!h.empty()) {
    const auto dot = h.find('.');
    const std::string_view part = h.substr(0, dot);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return false;
    }
    if (std::stoi(std::string(part)) > 255) return false;
    if (octets == 0 && part != "127") return false;
    ++octets;
    h = dot == std::string_view::npos ? std::string_view() : h.substr(dot + 1);
  }
  return octets == 4;
}

std::optional<std::string> validate_client_id(std::string_view client, std::string_view bucket_prefix) {
  if (client.empty()) return std::string("client id is empty");
  for (char ch : client) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return std::string("client id contains a control character");
    if (ch == '/' || ch == '\\') return std::string("client id contains a path separator");
    if (ch >= 'A' && ch <= 'Z') return std::string("client id contains upper case letters");
  }
  if (client.find("..") != std::string_view::npos) return std::string("client id contains '..'");
  std::string bucket = fmt::format("{}-{}", bucket_prefix, client);
  if (auto why = validate_bucket_name(bucket)) return fmt::format("client id cannot form a bucket: {}", *why);
  return std::nullopt;
}

Result<std::map<std::string, std::string, std::less<>>> parse_config_file(std::string_view text,
                                                                          std::string_view path) {
  std::map<std::string, std::string, std::less<>> values;
  int line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    const auto eq = line.find('=');
    const std::string where = fmt::format("{}:{}", path, line_no);
    if (eq == std::string_view::npos) {
      return setting_error(where, fmt::format("expected KEY=VALUE, got '{}'", line));
    }
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    const bool known = std::any_of(kSettings.begin(), kSettings.end(),
                                   [key](const SettingSpec& s) { return s.env == key; }) ||
                       key.starts_with("AWS_") || key.starts_with("EAGLESENSE_");
    if (!known) return setting_error(where, fmt::format("unknown setting '{}'", key));
    values.emplace(std::string(key), std::string(value));
  }
  return values;
}

// EAGLESENSE_INSECURE_TLS turns certificate checks off for every connection: allowed only when every
// service the run talks to is on this machine, so that it can never weaken a connection to AWS.
Status check_insecure_tls_endpoints(const EnvLookup& env, const ExportConfig& c) {
  std::vector<std::string> services = {"DYNAMODB", "S3"};
  if (c.metrics == MetricsMode::kCloudWatch) services.emplace_back("CLOUDWATCH");
  if (!c.state_machine_arn.empty()) services.emplace_back("SFN");
  for (const std::string& service : services) {
    const std::string name = "AWS_ENDPOINT_URL_" + service;
    const auto url = get(env, name).has_value() ? get(env, name) : get(env, "AWS_ENDPOINT_URL");
    if (!url) {
      return setting_error(
          "EAGLESENSE_INSECURE_TLS",
          fmt::format("turns TLS verification off, which is allowed only when every endpoint is "
                      "a loopback address; {} is not set, so {} would be AWS's own",
                      name, service));
    }
    if (!is_loopback_endpoint(*url)) {
      return setting_error(
          "EAGLESENSE_INSECURE_TLS",
          fmt::format("turns TLS verification off, which is allowed only when every endpoint is "
                      "a loopback address (127.0.0.0/8, [::1], localhost); {} is '{}'",
                      name, *url));
    }
  }
  return ok_status();
}

Result<ExportConfig> load_export_config(const EnvLookup& env) {
  ExportConfig c;
  if (auto v = get(env, "DYNAMODB_TABLE_NAME")) {
    const bool ok = v->size() >= 3 && v->size() <= 255 && std::all_of(v->begin(), v->end(), [](char ch) {
                      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                             (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
                    });
    if (!ok) {
      return setting_error(
          "DYNAMODB_TABLE_NAME",
          fmt::format("'{}' is not a table name (3-255 characters of a-z A-Z 0-9 _ - .)", *v));
    }
    c.table = *v;
  }
  if (auto v = get(env, "S3_BUCKET_PREFIX")) c.bucket_prefix = *v;
  if (auto why = validate_bucket_name(c.bucket_prefix + "-x")) {
    return setting_error("S3_BUCKET_PREFIX",
                         fmt::format("'{}' cannot start a bucket name: {}", c.bucket_prefix, *why));
  }
  c.ops_bucket = get(env, "EAGLESENSE_OPS_BUCKET").value_or(c.bucket_prefix + "-ops");
  if (auto why = validate_bucket_name(c.ops_bucket)) return setting_error("EAGLESENSE_OPS_BUCKET", *why);

  ES_TRY(read_named(env, "OUTPUT_FORMAT", output_format_named, output_format_names, c.format));
  ES_TRY(read_named(env, "EAGLESENSE_COMPRESSION", compression_named, compression_names, c.compression));
  ES_TRY(read_enum(env, "EAGLESENSE_READ_MODE", kReadModeNames, c.read_mode));
  ES_TRY(read_int(env, "EAGLESENSE_SEGMENTS", 1, 1000, c.segments));
  ES_TRY(read_int(env, "EAGLESENSE_SHARDS", 1, 1000, c.shards));
  ES_TRY(read_attribute_name(env, "EAGLESENSE_INDEX_NAME", c.index_name));
  ES_TRY(read_attribute_name(env, "EAGLESENSE_SHARD_ATTR", c.shard_attr));
  ES_TRY(read_attribute_name(env, "EAGLESENSE_CLIENT_ATTR", c.client_attr));
  ES_TRY(read_attribute_name(env, "EAGLESENSE_TIME_ATTR", c.time_attr));
  ES_TRY(read_attribute_name(env, "EAGLESENSE_ID_ATTR", c.id_attr));
  if (auto v = get(env, "EAGLESENSE_REQUIRED_ATTRS")) {
    c.required_attrs.clear();
    std::string_view rest = *v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view name = trim(rest.substr(0, comma));
      if (name.empty())
        return setting_error("EAGLESENSE_REQUIRED_ATTRS", fmt::format("empty name in '{}'", *v));
      c.required_attrs.emplace_back(name);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  ES_TRY(read_enum(env, "EAGLESENSE_SSE", kSseNames, c.sse));
  if (auto v = get(env, "EAGLESENSE_KMS_KEY_ID")) {
    if (c.sse != Sse::kKms) {
      return setting_error("EAGLESENSE_KMS_KEY_ID", "a KMS key is only used with EAGLESENSE_SSE=aws:kms");
    }
    c.kms_key_id = *v;
  }
  ES_TRY(read_account(env, "EAGLESENSE_EXPECTED_BUCKET_OWNER", c.expected_bucket_owner,
                      c.expected_bucket_owner_given));
  c.ops_bucket_owner = c.expected_bucket_owner;
  ES_TRY(read_account(env, "EAGLESENSE_OPS_BUCKET_OWNER", c.ops_bucket_owner, c.ops_bucket_owner_given));
  if (auto v = get(env, "EAGLESENSE_CLIENTS")) {
    if (v->starts_with("s3://")) {
      const std::string_view path = std::string_view(*v).substr(5);
      const auto slash = path.find('/');
      if (slash == std::string_view::npos || slash + 1 == path.size()) {
        return setting_error("EAGLESENSE_CLIENTS", fmt::format("'{}' is not s3://bucket/key", *v));
      }
      if (auto why = validate_bucket_name(path.substr(0, slash))) {
        return setting_error("EAGLESENSE_CLIENTS", *why);
      }
      c.clients_object = *v;
    } else {
      ES_ASSIGN_OR_RETURN(c.allowed_clients, parse_client_list(*v, c.bucket_prefix, "EAGLESENSE_CLIENTS"));
    }
  }
  ES_TRY(read_int(env, "EAGLESENSE_UPLOAD_CONCURRENCY", 1, 256, c.upload_concurrency));
  std::uint64_t threshold_mb = c.multipart_threshold_bytes >> 20;
  std::uint64_t part_mb = c.part_size_bytes >> 20;
  ES_TRY(read_int<std::uint64_t>(env, "EAGLESENSE_MULTIPART_THRESHOLD_MB", 5, 5000, threshold_mb));
  ES_TRY(read_int<std::uint64_t>(env, "EAGLESENSE_PART_SIZE_MB", 5, 5000, part_mb));
  c.multipart_threshold_bytes = threshold_mb << 20;
  c.part_size_bytes = part_mb << 20;
  ES_TRY(read_int(env, "AWS_MAX_ATTEMPTS", 1, 50, c.max_attempts));
  if (auto v = get(env, "LOG_LEVEL")) {
    log::Level level{};
    if (!log::parse_level(*v, level)) {
      return setting_error("LOG_LEVEL", fmt::format("'{}' is not one of debug, info, warn, error", *v));
    }
    c.log_level = *v;
  }
  ES_TRY(read_bool(env, "EAGLESENSE_INSECURE_TLS", c.insecure_tls));
  ES_TRY(read_bool(env, "EAGLESENSE_CONSISTENT_READ", c.consistent_read));
  c.ca_bundle = get(env, "AWS_CA_BUNDLE").value_or("");
  if (get(env, "EAGLESENSE_METRICS")) {
    MetricsMode metrics = MetricsMode::kNone;
    ES_TRY(read_enum(env, "EAGLESENSE_METRICS", kMetricsModeNames, metrics));
    c.metrics = metrics;
  }
  if (auto v = get(env, "EAGLESENSE_RESERVED_BUCKETS")) {
    std::string_view rest = *v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view name = trim(rest.substr(0, comma));
      if (auto why = validate_bucket_name(name)) return setting_error("EAGLESENSE_RESERVED_BUCKETS", *why);
      c.reserved_buckets.emplace_back(name);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  ES_TRY(read_int(env, "EAGLESENSE_CATCH_UP_HOURS", 0, 168, c.catch_up_hours));
  ES_TRY(read_int(env, "EAGLESENSE_HOUR_BUDGET_SECONDS", 1, 3600, c.hour_budget_seconds));
  ES_TRY(read_enum(env, "EAGLESENSE_REPORT", kReportModeNames, c.report));
  if (auto v = get(env, "EAGLESENSE_STATE_MACHINE_ARN"); v && !v->empty()) {
    if (auto why = validate_state_machine_arn(*v)) return setting_error("EAGLESENSE_STATE_MACHINE_ARN", *why);
    c.state_machine_arn = *v;
  }
  if (get(env, "EAGLESENSE_LEASE_SECONDS")) {
    int lease_seconds = 0;
    ES_TRY(read_int(env, "EAGLESENSE_LEASE_SECONDS", 10, 86400, lease_seconds));
    c.lease_seconds = lease_seconds;
  }
  ES_TRY(read_int<std::uint64_t>(env, "EAGLESENSE_MEMORY_MB", 16, 1ULL << 20, c.memory_mb));
  c.spill_dir = get(env, "EAGLESENSE_SPILL_DIR").value_or(get(env, "TMPDIR").value_or("/tmp"));
  if (c.insecure_tls) ES_TRY(check_insecure_tls_endpoints(env, c));
  if (c.consistent_read && c.read_mode == ReadMode::kQuery) {
    // DynamoDB refuses ConsistentRead on a global secondary index, which query mode reads.
    return setting_error("EAGLESENSE_CONSISTENT_READ",
                         "true needs EAGLESENSE_READ_MODE=scan: a global secondary index (query mode) "
                         "has no strongly consistent reads");
  }
  return c;
}

}  // namespace es
