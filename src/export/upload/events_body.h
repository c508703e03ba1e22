#pragma once
/// The passes over an uncompressed json or ndjson object that is never built: a first one that
/// hashes and measures it (hash_object), then one per attempt to send it that produces its bytes
/// into the request (EventsBody).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/http.h"
#include "core/encode.h"
#include "core/hash.h"
#include "core/result.h"
#include "export/upload/event_source.h"

namespace es::exporter {

/// What a first pass over an object's events found: its bytes' digest and length, its events and
/// their time range.
struct ObjectPass {
  Sha256Digest digest{};
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;
  std::int64_t min_time_us = 0;
  std::int64_t max_time_us = 0;
};
/// Encodes source's events (json or ndjson, uncompressed) without keeping the bytes.
[[nodiscard]] Result<ObjectPass> hash_object(OutputFormat format, EventSource& source);

/// An uncompressed json or ndjson object produced from its events while it is sent, so that it is
/// never held in memory whole (its events are, or their runs). size: the object's length, from
/// hash_object. The source must outlive the body.
class EventsBody final : public aws::BodySource {
 public:
  EventsBody(OutputFormat format, EventSource& events, std::uint64_t size);
  [[nodiscard]] std::uint64_t size() const override { return size_; }
  void rewind() override;
  [[nodiscard]] Result<std::size_t> read(char* out, std::size_t room) override;

 private:
  // Takes what the writer emits: into the reader's buffer while it has room, the rest kept for the
  // next read().
  struct Window final : OutputSink {
    Status append(std::string_view bytes) override;
    [[nodiscard]] bool takes_small_writes() const noexcept override { return true; }
    char* out = nullptr;
    std::size_t room = 0;
    std::size_t filled = 0;
    std::string overflow;
    std::size_t overflow_at = 0;
  };

  OutputFormat format_;
  EventSource& events_;
  std::uint64_t size_;
  Window window_;
  std::optional<EventWriter> writer_;
  bool finished_ = false;
};

}  // namespace es::exporter
