// The content checks of `verify`: an object's decompressed bytes read event by event (json and
// ndjson line by line, csv record by record), each event's time and id checked in order.

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/decompress.h"
#include "core/event_json.h"
#include "export/verify.h"  // read_object_content

namespace es::exporter {
namespace {

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

/// Splits json/ndjson content into lines and checks each event line.
class JsonLinesChecker final : public OutputSink {
 public:
  JsonLinesChecker(OutputFormat format, std::string_view time_attr, std::string_view id_attr,
                   EventSequence& sequence, ProblemLog& problems)
      : format_(format), events_(time_attr, id_attr), sequence_(sequence), problems_(problems) {}

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
    if (!expect_more_ && event_lines_ > 0) {
      problems_.add("format", fmt::format("line {}: missing ',' after the previous event", line_number_ - 1));
    }
    std::string_view event = line_;
    expect_more_ = !event.empty() && event.back() == ',';
    if (expect_more_) event.remove_suffix(1);
    ++event_lines_;
    check_event(event);
  }

  void check_event(std::string_view event) {
    auto read = events_.read(event);
    if (!read.ok()) {
      problems_.add("event", fmt::format("line {}: {}", line_number_, read.error().message));
      count_without_time();
      return;
    }
    sequence_.add(line_number_, read->time_us, read->id);
  }

  // An event whose time cannot be read still counts as an event (its problem is reported).
  void count_without_time() { ++unplaced_; }

  OutputFormat format_;
  EventLineReader events_;
  EventSequence& sequence_;
  ProblemLog& problems_;
  std::string line_;
  std::uint64_t line_number_ = 0;
  std::uint64_t unplaced_ = 0;
  std::uint64_t event_lines_ = 0;
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

}  // namespace es::exporter
