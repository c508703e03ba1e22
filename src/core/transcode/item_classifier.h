#pragma once
// Internal to the transcoder (src/core/transcode/): what the top level of an item says about its event
// (client id, event id, time, required attributes), noted by either path while it transcodes the
// item, and the status of the item's record.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/transcode.h"

namespace es::transcode {

/// An attribute name or a value quoted as JSON (at most its first 128 bytes) for a message.
[[nodiscard]] std::string quote_key(std::string_view key);

// A top-level attribute the pipeline reads: its type key, and its content when that is a string.
struct Typed {
  std::string_view type;
  std::string_view text;
  bool is_string = false;
};

class ItemClassifier {
 public:
  explicit ItemClassifier(const EventAttributes& attributes) noexcept : attributes_(attributes) {}

  /// Forgets what the previous item had.
  void begin_item() noexcept {
    has_client_ = has_id_ = has_time_ = false;
    missing_required_ = nullptr;
  }

  /// Notes the top-level field named `key` when it is the client, id or time attribute, as given by
  /// `typed()` (called only then). Called once the field's value is known to be well formed.
  template <class Get>
  [[gnu::always_inline]] void capture(std::string_view key, const Get& typed) {
    const EventAttributes& a = attributes_;
    if (same(key, a.client)) {
      client_ = typed();
      has_client_ = true;
    } else if (same(key, a.id)) {
      id_ = typed();
      has_id_ = true;
    } else if (same(key, a.time)) {
      time_ = typed();
      has_time_ = true;
    }
  }

  /// EventAttributes::required: further attributes every item must have.
  [[nodiscard]] const std::vector<std::string>& required() const noexcept { return attributes_.required; }
  /// Notes `name`, one of required(), as the first the item lacks.
  void set_missing_required(const std::string* name) noexcept { missing_required_ = name; }

  /// Decides the status of a transcoded item; fills time_us and the client/id views on success.
  /// The time is checked first so that a record rejected for its client or id still carries its
  /// time: the pipeline counts such a rejection only in the hour it belongs to.
  [[nodiscard]] RecordStatus classify(std::int64_t& time_us, bool& has_parsed_time, std::string_view& client,
                                      std::string_view& id);
  /// Why classify() rejected the item (valid until the next classify()).
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

 private:
  [[gnu::always_inline]] static bool same(std::string_view key, std::string_view name) noexcept {
    return key.size() == name.size() &&
           (key.empty() || (key[0] == name[0] && std::memcmp(key.data(), name.data(), key.size()) == 0));
  }
  RecordStatus reject(std::string message, RecordStatus status);

  const EventAttributes& attributes_;
  // The three attributes the pipeline needs and the first required attribute missing, captured
  // while transcoding the top level of an item.
  Typed client_;
  Typed id_;
  Typed time_;
  bool has_client_ = false;
  bool has_id_ = false;
  bool has_time_ = false;
  const std::string* missing_required_ = nullptr;
  std::string message_;
};

}  // namespace es::transcode
