#include "core/event_json.h"

#include <optional>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/time.h"

namespace es {
namespace {

std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

/// The exporter's time rule: an ISO-8601 string, or an epoch number (seconds or milliseconds).
Result<std::int64_t> parse_event_time(bool is_string, std::string_view text) {
  return is_string ? parse_iso8601_us(text) : parse_epoch_number_us(text);
}

Error problem(std::string message) {
  return Error::invalid_data("event", std::move(message));
}

}  // namespace

struct EventLineReader::State {
  std::string time_attr;
  std::string id_attr;
  simdjson::ondemand::parser parser;
  std::string buffer;  // the event, with simdjson's padding after it
  std::string id;
};

EventLineReader::EventLineReader(std::string_view time_attr, std::string_view id_attr)
    : state_(std::make_unique<State>()) {
  state_->time_attr = std::string(time_attr);
  state_->id_attr = std::string(id_attr);
}

EventLineReader::~EventLineReader() = default;

Result<EventTimeAndId> EventLineReader::read(std::string_view event) {
  State& s = *state_;
  s.buffer.assign(event);
  s.buffer.reserve(s.buffer.size() + simdjson::SIMDJSON_PADDING);
  s.id.clear();
  std::optional<std::int64_t> time;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (s.parser.iterate(s.buffer.data(), s.buffer.size(), s.buffer.capacity()).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    return problem("not a JSON object");
  }
  bool have_id = false;
  for (auto field : object) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
        field.value().get(value) != simdjson::SUCCESS) {
      return problem("not valid JSON");
    }
    const bool is_time = key == s.time_attr;
    const bool is_id = key == s.id_attr;
    if (!is_time && !is_id) continue;
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) return problem("not valid JSON");
    std::string_view text;
    const bool is_string = type == simdjson::ondemand::json_type::string;
    if (is_string) {
      if (value.get_string().get(text) != simdjson::SUCCESS) return problem("not valid JSON");
    } else if (type == simdjson::ondemand::json_type::number) {
      text = trim_json_space(value.raw_json_token());
    } else {
      return problem(fmt::format("attribute '{}' is neither a string nor a number", key));
    }
    if (is_id) {
      s.id.assign(text);
      have_id = true;
    }
    if (is_time) {
      auto parsed = parse_event_time(is_string, text);
      if (!parsed.ok()) {
        return problem(fmt::format("time '{}' does not parse: {}", text, parsed.error().message));
      }
      time = *parsed;
    }
    if (time && have_id) break;
  }
  if (!time) return problem(fmt::format("no time attribute '{}'", s.time_attr));
  return EventTimeAndId{*time, s.id};
}

Result<std::uint64_t> count_json_array_elements(std::string_view text, std::string_view document) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array array;
  std::size_t n = 0;
  if (auto err = parser.iterate(padded).get(doc); err != simdjson::SUCCESS) {
    return Error::invalid_data(std::string(document), simdjson::error_message(err));
  }
  if (auto err = doc.get_array().get(array); err != simdjson::SUCCESS) {
    return Error::invalid_data(std::string(document),
                               fmt::format("not a JSON array ({})", simdjson::error_message(err)));
  }
  if (auto err = array.count_elements().get(n); err != simdjson::SUCCESS) {
    return Error::invalid_data(std::string(document), simdjson::error_message(err));
  }
  return static_cast<std::uint64_t>(n);
}

}  // namespace es
