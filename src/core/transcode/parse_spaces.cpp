#include "core/transcode/parse_spaces.h"

#include <algorithm>
#include <thread>

namespace es::transcode {

bool ParseSpace::reserve_for(std::size_t len) {
  if (parser.capacity() >= len && doc.capacity() >= len) return true;
  const std::size_t capacity = std::min(len + len / 4 + 4096, std::max(len, parser.max_capacity()));
  if (doc.capacity() < len && doc.allocate(capacity) != simdjson::SUCCESS) return false;
  return parser.capacity() >= len || parser.allocate(capacity) == simdjson::SUCCESS;
}

ParseSpaces& ParseSpaces::instance() {
  static auto* spaces = new ParseSpaces();  // never destroyed: decoders may outlive statics
  return *spaces;
}

ParseSpaces::ParseSpaces() : pool_(static_cast<int>(std::max(2U, std::thread::hardware_concurrency()))) {}

void ParseSpaces::detach() {
  if (users_.fetch_sub(1) == 1) pool_.clear_idle();
}

}  // namespace es::transcode
