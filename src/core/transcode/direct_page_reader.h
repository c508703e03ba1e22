#pragma once
// Internal to the transcoder (src/core/transcode/): the direct path. A page is read straight from its
// bytes, item by item, each item transcoded while its bytes are in the cache, when it is what
// DynamoDB sends for the usual items: well-formed JSON, every type, nested at most kDirectDepth deep,
// no escape in a name nor an escaped surrogate, every item accepted. Anything else (a rejected item,
// a duplicate name, an envelope member it does not know, malformed JSON, ...) abandons the page,
// which then goes the DOM way (dom_transcoder.h); on what it accepts, it writes exactly what the DOM
// way writes (tests and fuzz_transcode compare the two).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_text_internal.h"
#include "core/transcode.h"
#include "core/transcode/item_classifier.h"
#include "core/transcode/json_cursor.h"
#include "core/transcode/page_parts.h"
#include "core/transcode/shape_cache.h"
#include "core/transcode/sorted_set.h"

namespace es::transcode {

// Where a value's output went, packed in one word and so returned in a register: as two 32-bit
// members, it was built on the stack by two 4-byte stores and read back at once by one 8-byte load,
// which the store buffer cannot forward (a stall on every value).
class Span {
 public:
  constexpr Span() noexcept = default;  // failed
  static constexpr Span at(std::uint32_t begin, std::uint32_t size) noexcept {
    return Span((std::uint64_t{size} << 32) | begin);
  }
  [[nodiscard]] std::uint32_t begin() const noexcept { return static_cast<std::uint32_t>(bits_); }
  [[nodiscard]] std::uint32_t size() const noexcept { return static_cast<std::uint32_t>(bits_ >> 32); }
  [[nodiscard]] bool ok() const noexcept { return size() != kBad; }

 private:
  static constexpr std::uint32_t kBad = std::numeric_limits<std::uint32_t>::max();
  constexpr explicit Span(std::uint64_t bits) noexcept : bits_(bits) {}
  std::uint64_t bits_ = std::uint64_t{kBad} << 32;
};

class DirectPageReader {
 public:
  /// `attributes` and `shapes` must outlive the reader.
  DirectPageReader(const EventAttributes& attributes, ShapeCache& shapes) noexcept
      : shapes_(shapes), classifier_(attributes) {}

  /// Reads the page `body` (with simdjson's padding after it) into `page` (empty); false, with
  /// `page` half-filled, when the page is not for this path.
  [[nodiscard]] bool read_page(const std::string& body, PageParts page);

 private:
  using JsonOut = json_text::JsonOut;
  // A field of a map being read: its name, and its value's output, in `values`, once written.
  struct Field {
    std::string_view key;
    std::uint32_t begin;
    std::uint32_t size;
    std::uint32_t index;  // its place among the map's fields as they came
  };

  bool read_item(JsonOut& out, std::vector<DecodedRecord>& records);
  Span read_map(JsonOut& values, int depth, bool top, JsonOut* item = nullptr);
  bool order_fields(Field* first, std::size_t n, std::size_t place, const std::uint32_t*& order);
  void find_missing_required(const Field* first, std::size_t n);
  Span read_value(JsonOut& values, int depth, Typed& t);
  Span read_list(JsonOut& values, int depth);
  bool read_set(JsonOut& values, char kind);
  bool read_consumed(PageParts& page);

  JsonCursor in_;               // where in the page
  ShapeCache& shapes_;          // by the map's place in its item (shared with the DOM path)
  ItemClassifier classifier_;   // the item's client, id and time
  SortedSet set_;               // elements of the SS/NS/BS being read
  std::string values_;          // the values of the item being read, as they are written
  std::vector<Field> fields_;   // stack of the fields of the maps being read
  std::vector<Span> elements_;  // stack of the elements of the lists being read
};

}  // namespace es::transcode
