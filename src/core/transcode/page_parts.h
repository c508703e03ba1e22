#pragma once
// Internal to the transcoder (src/core/transcode/): the parts of a DecodedPage a path fills.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_text_internal.h"
#include "core/result.h"
#include "core/transcode.h"
#include "core/transcode/bytes.h"

namespace es::transcode {

// DecodedPage's members, handed to the paths by PageDecoder (its friend).
struct PageParts {
  std::string& arena;
  std::size_t& arena_size;
  std::vector<DecodedRecord>& records;
  std::string& last_evaluated_key;
  std::int64_t& count;
  std::int64_t& scanned_count;
  std::optional<double>& consumed;
  std::size_t& rejected;

  /// Makes the arena big enough for the items of a body of `body_size` bytes. Plain JSON is smaller
  /// than DynamoDB JSON, so this covers a page of good items without growing. A little headroom: page
  /// sizes creep up by a few bytes, and an exact regrowth copied and faulted in a fresh buffer.
  /// resize() writes every byte, so more headroom would be resident for nothing. The old contents are
  /// stale: nothing is copied over.
  void reserve_arena(std::size_t body_size) {
    if (arena.size() < body_size) {
      arena.clear();
      arena.resize(body_size + body_size / 32);
    }
  }
};

// An error of PageDecoder::decode: the body is not a response page.
inline Error page_error(std::string message) {
  return Error::invalid_data("DynamoDB page", std::move(message)).with_context("DynamoDB.decode");
}

// Appends s to out, noting where it went in offset and size (a DecodedRecord's span).
inline void append_span(json_text::JsonOut& out, std::string_view s, std::uint32_t& offset,
                        std::uint32_t& size) {
  offset = u32(out.size());
  size = u32(s.size());
  out.append(s);
}

}  // namespace es::transcode
