#include "core/transcode/item_classifier.h"

#include <utility>

#include "core/time.h"

namespace es::transcode {

std::string quote_key(std::string_view key) {
  std::string out;
  append_json_string(out, key.substr(0, 128));
  return out;
}

namespace {

// Whether a type key is the one-letter type t (compared inline: a string_view comparison with a
// literal was a call each, six per item).
bool is(std::string_view type, char t) noexcept {
  return type.size() == 1 && type[0] == t;
}

}  // namespace

RecordStatus ItemClassifier::classify(std::int64_t& time_us, bool& has_parsed_time, std::string_view& client,
                                      std::string_view& id) {
  const EventAttributes& a = attributes_;
  client = {};
  id = {};
  has_parsed_time = false;
  if (has_client_ && is(client_.type, 'S') && client_.is_string) client = client_.text;
  if (has_id_ && (is(id_.type, 'S') || is(id_.type, 'N')) && id_.is_string) id = id_.text;
  if (!has_time_) {
    return reject("missing attribute " + quote_key(a.time) + " (event time)", RecordStatus::kMissingTime);
  }
  const std::string_view type = time_.type;
  if ((!is(type, 'S') && !is(type, 'N')) || !time_.is_string) {
    return reject("time attribute " + quote_key(a.time) + " must be S (ISO-8601) or N (epoch), got " +
                      std::string(type),
                  RecordStatus::kTimeWrongType);
  }
  const std::string_view text = time_.text;
  auto parsed = is(type, 'S') ? parse_iso8601_us(text) : parse_epoch_number_us(text);
  if (!parsed.ok()) return reject(std::string(parsed.error().message), RecordStatus::kUnparseableTime);
  time_us = *parsed;
  has_parsed_time = true;
  if (!has_client_) {
    return reject("missing attribute " + quote_key(a.client) + " (client id)",
                  RecordStatus::kMissingClientId);
  }
  if (!is(client_.type, 'S')) {
    return reject(
        "client id attribute " + quote_key(a.client) + " must be S, got " + std::string(client_.type),
        RecordStatus::kClientIdWrongType);
  }
  if (client.empty()) {
    return reject("client id attribute " + quote_key(a.client) + " is empty", RecordStatus::kEmptyClientId);
  }
  if (!has_id_) {
    return reject("missing attribute " + quote_key(a.id) + " (event id)", RecordStatus::kMissingEventId);
  }
  if (!is(id_.type, 'S') && !is(id_.type, 'N')) {
    return reject("event id attribute " + quote_key(a.id) + " must be S or N, got " + std::string(id_.type),
                  RecordStatus::kEventIdWrongType);
  }
  if (missing_required_ != nullptr) {
    return reject("missing required attribute " + quote_key(*missing_required_),
                  RecordStatus::kMissingRequired);
  }
  return RecordStatus::kOk;
}

RecordStatus ItemClassifier::reject(std::string message, RecordStatus status) {
  message_ = std::move(message);
  return status;
}

}  // namespace es::transcode
