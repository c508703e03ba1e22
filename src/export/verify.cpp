#include "export/verify.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/decompress.h"
#include "core/hash.h"
#include "core/log.h"
#include "export/exporter.h"
#include "export/hour_reader.h"

namespace es::exporter {
namespace {

std::string s3_location(std::string_view bucket, std::string_view key) {
  return fmt::format("s3://{}/{}", bucket, key);
}

std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

/// Collects the problems of one object, one entry per check (the first occurrence and a count).
class ProblemLog {
 public:
  void add(std::string_view check, std::string message) {
    auto it =
        std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.check == check; });
    if (it == entries_.end()) {
      entries_.push_back(Entry{std::string(check), std::move(message), 1});
    } else {
      ++it->count;
    }
  }
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> take() {
    std::vector<std::pair<std::string, std::string>> out;
    for (Entry& e : entries_) {
      if (e.count > 1) e.message += fmt::format(" (and {} more)", e.count - 1);
      out.emplace_back(std::move(e.check), std::move(e.message));
    }
    entries_.clear();
    return out;
  }

 private:
  struct Entry {
    std::string check;
    std::string message;
    std::uint64_t count = 0;
  };
  std::vector<Entry> entries_;
};

/// Checks the events of one object in order: window, (time, id) order, min/max.
class EventSequence {
 public:
  EventSequence(const HourWindow& window, ProblemLog& problems) : window_(window), problems_(problems) {}

  void add(std::uint64_t line, std::int64_t time_us, std::string_view id) {
    if (!window_.contains(time_us)) {
      problems_.add("window", fmt::format("line {}: event '{}' at {} lies outside {}", line, id,
                                          format_iso8601_us(time_us), window_.label()));
    }
    if (events_ == 0) {
      min_ = max_ = time_us;
    } else {
      min_ = std::min(min_, time_us);
      max_ = std::max(max_, time_us);
      if (time_us < last_time_ || (time_us == last_time_ && id < last_id_)) {
        problems_.add("order",
                      fmt::format("line {}: event '{}' at {} comes after '{}' at {}", line, id,
                                  format_iso8601_us(time_us), last_id_, format_iso8601_us(last_time_)));
      }
    }
    last_time_ = time_us;
    last_id_.assign(id);
    ++events_;
  }

  [[nodiscard]] std::uint64_t events() const { return events_; }
  [[nodiscard]] std::int64_t min_time() const { return min_; }
  [[nodiscard]] std::int64_t max_time() const { return max_; }

 private:
  const HourWindow& window_;
  ProblemLog& problems_;
  std::uint64_t events_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  std::int64_t last_time_ = 0;
  std::string last_id_;
};

/// The exporter's time rule: an ISO-8601 string, or an epoch number (seconds or milliseconds).
Result<std::int64_t> parse_event_time(bool is_string, std::string_view text) {
  return is_string ? parse_iso8601_us(text) : parse_epoch_number_us(text);
}

/// Splits json/ndjson content into lines and checks each event line.
class JsonLinesChecker final : public OutputSink {
 public:
  JsonLinesChecker(OutputFormat format, std::string_view time_attr, std::string_view id_attr,
                   EventSequence& sequence, ProblemLog& problems)
      : format_(format), time_attr_(time_attr), id_attr_(id_attr), sequence_(sequence), problems_(problems) {}

  Status append(std::string_view bytes) override {
    while (!bytes.empty()) {
      const auto nl = bytes.find('\n');
      if (nl == std::string_view::npos) {
        line_.append(bytes);
        return ok_status();
      }
      line_.append(bytes.substr(0, nl));
      bytes.remove_prefix(nl + 1);
      ++line_number_;
      take_line();
      line_.clear();
    }
    return ok_status();
  }

  /// Events whose time could not be read (counted, not placed in the sequence).
  [[nodiscard]] std::uint64_t unplaced() const { return unplaced_; }

  void finish() {
    if (!line_.empty()) {
      ++line_number_;
      problems_.add("format",
                    fmt::format("line {}: the last line does not end with a newline", line_number_));
      take_line();
    }
    if (format_ == OutputFormat::kJson) {
      if (line_number_ == 0) {
        problems_.add("format", "empty object: a json object is at least \"[]\"");
      } else if (!closed_) {
        problems_.add("format", "the JSON array is not closed by a line \"]\"");
      }
    }
  }

 private:
  void take_line() {
    if (format_ == OutputFormat::kNdjson) {
      if (line_.empty()) {
        problems_.add("format", fmt::format("line {}: empty line", line_number_));
        return;
      }
      check_event(line_);
      return;
    }
    // json: "[" / events, each but the last followed by ',' / "]" (or "[]" alone).
    if (closed_) {
      problems_.add("format", fmt::format("line {}: content after the end of the JSON array", line_number_));
      return;
    }
    if (line_number_ == 1) {
      if (line_ == "[]") {
        closed_ = true;
      } else if (line_ != "[") {
        problems_.add("format", "line 1: a json object starts with a line \"[\"");
      }
      return;
    }
    if (line_ == "]") {
      if (expect_more_)
        problems_.add("format", fmt::format("line {}: ',' before the end of the array", line_number_ - 1));
      closed_ = true;
      return;
    }
    if (!expect_more_ && sequence_.events() > 0) {
      problems_.add("format", fmt::format("line {}: missing ',' after the previous event", line_number_ - 1));
    }
    std::string_view event = line_;
    expect_more_ = !event.empty() && event.back() == ',';
    if (expect_more_) event.remove_suffix(1);
    check_event(event);
  }

  void check_event(std::string_view event) {
    buffer_.assign(event);
    buffer_.reserve(buffer_.size() + simdjson::SIMDJSON_PADDING);
    std::optional<std::int64_t> time;
    std::string id;
    std::string problem;
    simdjson::ondemand::document doc;
    simdjson::ondemand::object object;
    if (parser_.iterate(buffer_.data(), buffer_.size(), buffer_.capacity()).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(object) != simdjson::SUCCESS) {
      problem = "not a JSON object";
    } else {
      bool have_id = false;
      for (auto field : object) {
        std::string_view key;
        simdjson::ondemand::value value;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
            field.value().get(value) != simdjson::SUCCESS) {
          problem = "not valid JSON";
          break;
        }
        const bool is_time = key == time_attr_;
        const bool is_id = key == id_attr_;
        if (!is_time && !is_id) continue;
        simdjson::ondemand::json_type type;
        if (value.type().get(type) != simdjson::SUCCESS) {
          problem = "not valid JSON";
          break;
        }
        std::string_view text;
        const bool is_string = type == simdjson::ondemand::json_type::string;
        if (is_string) {
          if (value.get_string().get(text) != simdjson::SUCCESS) {
            problem = "not valid JSON";
            break;
          }
        } else if (type == simdjson::ondemand::json_type::number) {
          text = trim_json_space(value.raw_json_token());
        } else {
          problem = fmt::format("attribute '{}' is neither a string nor a number", key);
          break;
        }
        if (is_id) {
          id.assign(text);
          have_id = true;
        }
        if (is_time) {
          auto parsed = parse_event_time(is_string, text);
          if (!parsed.ok()) {
            problem = fmt::format("time '{}' does not parse: {}", text, parsed.error().message);
            break;
          }
          time = *parsed;
        }
        if (time && have_id) break;
      }
      if (problem.empty() && !time) problem = fmt::format("no time attribute '{}'", time_attr_);
    }
    if (!problem.empty()) {
      problems_.add("event", fmt::format("line {}: {}", line_number_, problem));
      count_without_time();
      return;
    }
    sequence_.add(line_number_, *time, id);
  }

  // An event whose time cannot be read still counts as an event (its problem is reported).
  void count_without_time() { ++unplaced_; }

  OutputFormat format_;
  std::string_view time_attr_;
  std::string_view id_attr_;
  EventSequence& sequence_;
  ProblemLog& problems_;
  simdjson::ondemand::parser parser_;
  std::string line_;
  std::string buffer_;
  std::uint64_t line_number_ = 0;
  std::uint64_t unplaced_ = 0;
  bool closed_ = false;
  bool expect_more_ = false;
};

/// Splits csv content (RFC 4180: CRLF rows, '"' quoting with "" for a quote) into records; the first
/// is the header, each other one an event.
class CsvChecker final : public OutputSink {
 public:
  CsvChecker(std::string_view time_attr, std::string_view id_attr, EventSequence& sequence,
             ProblemLog& problems)
      : time_attr_(time_attr), id_attr_(id_attr), sequence_(sequence), problems_(problems) {}

  Status append(std::string_view bytes) override {
    for (const char c : bytes) {
      if (c == '"') in_quotes_ = !in_quotes_;
      if (c == '\n' && !in_quotes_) {
        ++record_number_;
        if (record_.empty() || record_.back() != '\r') {
          problems_.add("format", fmt::format("row {}: rows end with CRLF", record_number_));
        } else {
          record_.pop_back();
        }
        take_record();
        record_.clear();
        continue;
      }
      record_ += c;
    }
    return ok_status();
  }

  void finish() {
    if (!record_.empty() || in_quotes_) {
      ++record_number_;
      problems_.add("format", fmt::format("row {}: the last row does not end with CRLF", record_number_));
      take_record();
    }
  }

  [[nodiscard]] std::uint64_t unplaced() const { return unplaced_; }

 private:
  // Splits one record into its fields, undoing the quoting.
  std::vector<std::string> fields(std::string_view record) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < record.size(); ++i) {
      const char c = record[i];
      if (quoted) {
        if (c == '"' && i + 1 < record.size() && record[i + 1] == '"') {
          out.back() += '"';
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          out.back() += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out.emplace_back();
      } else {
        out.back() += c;
      }
    }
    return out;
  }

  void take_record() {
    std::vector<std::string> row = fields(record_);
    if (record_number_ == 1) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (row[i] == time_attr_) time_column_ = i;
        if (row[i] == id_attr_) id_column_ = i;
      }
      columns_ = row.size();
      if (!time_column_)
        problems_.add("format", fmt::format("the header has no time column '{}'", time_attr_));
      return;
    }
    if (row.size() != columns_) {
      problems_.add("format", fmt::format("row {}: {} fields, the header has {}", record_number_, row.size(),
                                          columns_));
    }
    if (!time_column_ || *time_column_ >= row.size() || row[*time_column_].empty()) {
      problems_.add("event", fmt::format("row {}: no time", record_number_));
      ++unplaced_;
      return;
    }
    // csv writes strings raw and numbers as their digits: a time that is not ISO-8601 is a number.
    const std::string& text = row[*time_column_];
    auto time = parse_iso8601_us(text);
    if (!time.ok()) time = parse_epoch_number_us(text);
    if (!time.ok()) {
      problems_.add("event", fmt::format("row {}: time '{}' does not parse", record_number_, text));
      ++unplaced_;
      return;
    }
    const std::string_view id =
        id_column_ && *id_column_ < row.size() ? std::string_view(row[*id_column_]) : std::string_view();
    sequence_.add(record_number_, *time, id);
  }

  std::string_view time_attr_;
  std::string_view id_attr_;
  EventSequence& sequence_;
  ProblemLog& problems_;
  std::string record_;
  bool in_quotes_ = false;
  std::uint64_t record_number_ = 0;
  std::optional<std::size_t> time_column_;
  std::optional<std::size_t> id_column_;
  std::size_t columns_ = 0;
  std::uint64_t unplaced_ = 0;
};

/// Counts the elements of the rejected file (a JSON array).
Result<std::uint64_t> count_rejected(const std::string& body) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  std::size_t n = 0;
  if (auto err = parser.iterate(padded).get(doc); err != simdjson::SUCCESS) {
    return Error::invalid_data("rejected file", simdjson::error_message(err));
  }
  if (auto err = doc.get_array().get(array); err != simdjson::SUCCESS) {
    return Error::invalid_data("rejected file",
                               fmt::format("not a JSON array ({})", simdjson::error_message(err)));
  }
  if (auto err = array.count_elements().get(n); err != simdjson::SUCCESS) {
    return Error::invalid_data("rejected file", simdjson::error_message(err));
  }
  return static_cast<std::uint64_t>(n);
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
    const bool delivered = o.status == "delivered";
    const std::string bucket = delivered ? o.bucket : config_.ops_bucket;
    const std::string key = delivered ? o.key : o.undeliverable_key;
    VerifiedObject& v = report_.objects.emplace_back();
    v.client = o.client;
    v.status = o.status;
    v.location = s3_location(bucket, key);
    if (!delivered && o.status != "undeliverable") {
      finding(o.client, v.location, "manifest", fmt::format("unknown status '{}'", o.status));
    }
    if (key.empty()) {
      finding(o.client, "", "manifest", fmt::format("the {} object has no key in the manifest", o.status));
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

Result<ObjectContent> read_object_content(std::string_view bytes, OutputFormat format,
                                          Compression compression, const HourWindow& window,
                                          std::string_view time_attr, std::string_view id_attr,
                                          std::uint64_t max_bytes) {
  ProblemLog problems;
  EventSequence sequence(window, problems);
  ObjectContent out;
  std::uint64_t unplaced = 0;
  if (format == OutputFormat::kCsv) {
    CsvChecker checker(time_attr, id_attr, sequence, problems);
    ES_ASSIGN_OR_RETURN(auto d, Decompressor::make(compression, checker, max_bytes));
    ES_TRY(d->append(bytes));
    ES_TRY(d->finish());
    checker.finish();
    unplaced = checker.unplaced();
  } else {
    JsonLinesChecker checker(format, time_attr, id_attr, sequence, problems);
    ES_ASSIGN_OR_RETURN(auto d, Decompressor::make(compression, checker, max_bytes));
    ES_TRY(d->append(bytes));
    ES_TRY(d->finish());
    checker.finish();
    unplaced = checker.unplaced();
  }
  out.events = sequence.events() + unplaced;
  out.min_time_us = sequence.min_time();
  out.max_time_us = sequence.max_time();
  out.problems = problems.take();
  return out;
}

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
  std::optional<OutputFormat> format;
  std::optional<Compression> compression;
  if (auto f = parse_output_format(m.format); f.ok()) {
    format = *f;
  } else {
    verifier.finding("", report.manifest_location, "manifest", fmt::format("unknown format '{}'", m.format));
  }
  if (auto c = parse_compression(m.compression); c.ok()) {
    compression = *c;
  } else {
    verifier.finding("", report.manifest_location, "manifest",
                     fmt::format("unknown compression '{}'", m.compression));
  }

  std::uint64_t listed_delivered = 0;
  std::uint64_t listed_undeliverable = 0;
  for (const ManifestObject& o : m.objects) {
    ES_ASSIGN_OR_RETURN(const std::uint64_t counted, verifier.check_object(o, format, compression));
    report.events_counted += counted;
    (o.status == "delivered" ? listed_delivered : listed_undeliverable) += o.events;
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
