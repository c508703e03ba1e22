#pragma once
// Internal to the transcoder (src/core/transcode/): the DOM path. A page is parsed by simdjson (DOM)
// and each item transcoded by a walk over simdjson's tape. It takes any page: what the direct path
// (direct_page_reader.h) hands over, and every page when that path is off.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/json_text_internal.h"
#include "core/result.h"
#include "core/transcode.h"
#include "core/transcode/item_classifier.h"
#include "core/transcode/page_parts.h"
#include "core/transcode/shape_cache.h"
#include "core/transcode/sorted_set.h"
#include "core/transcode/tape.h"

namespace es::transcode {

class DomTranscoder {
 public:
  /// `attributes` and `shapes` must outlive the transcoder.
  DomTranscoder(const EventAttributes& attributes, ShapeCache& shapes);
  ~DomTranscoder();
  DomTranscoder(const DomTranscoder&) = delete;
  DomTranscoder& operator=(const DomTranscoder&) = delete;

  /// PageDecoder::decode by the DOM: fills `page` (empty) from body; an error when the body is not a
  /// response page.
  [[nodiscard]] Status decode_page(const std::string& body, PageParts page);
  /// PageDecoder::transcode_item.
  [[nodiscard]] Result<std::string> transcode_item(std::string_view item_json);

 private:
  // One field of an object being transcoded: its name, the tape index of its typed value, and its
  // place among the object's fields as they came.
  struct Field {
    std::string_view key;
    std::uint32_t value;
    std::uint32_t index;
  };
  using JsonOut = json_text::JsonOut;

  void decode_item(simdjson::dom::element e, std::uint32_t at, JsonOut& out, PageParts& page);
  bool item(std::uint32_t at, JsonOut& out);
  bool map(std::uint32_t obj, JsonOut& out, int depth, bool top);
  bool collect_sorted(std::uint32_t obj, std::size_t& base, const Shape*& shape);
  void pop(std::size_t base);
  [[nodiscard]] Typed typed(std::uint32_t v) const noexcept;
  void find_missing_required(std::size_t base, std::size_t end);
  bool value(std::uint32_t at, JsonOut& out, int depth);
  bool list(std::uint32_t at, JsonOut& out, int depth);
  bool string_set(std::string_view type, std::uint32_t at, JsonOut& out);
  [[gnu::always_inline]] bool string_of(std::uint32_t i, std::string_view type, std::string_view& s) {
    if (tape_.type(i) != '"') [[unlikely]] {
      return not_a_string(type);
    }
    s = tape_.string(i);
    return true;
  }
  [[gnu::cold]] bool not_a_string(std::string_view type);
  bool number(std::string_view text, JsonOut& out);
  bool fail(std::string message);
  [[nodiscard]] std::string error_message() const;

  ShapeCache& shapes_;                // by the map's place in its item (shared with the direct path)
  ItemClassifier classifier_;         // the item's client, id and time
  Tape tape_;                         // of the document being transcoded
  std::vector<Field> fields_;         // stack of the fields of the objects being transcoded
  std::vector<Field> reorder_;        // a remembered map's fields, while they are put in order
  SortedSet set_;                     // elements of the SS/NS/BS being transcoded
  std::vector<std::string> path_;     // where a transcoding error happened, innermost first
  std::string why_;                   // what the error was
  std::string error_;                 // the message of an invalid item (error_message())
  simdjson::dom::parser parser_;      // transcode_item() only: decode_page() borrows a ParseSpace
  simdjson::dom::document document_;  // transcode_item() only
  std::string padded_;                // transcode_item(): a copy of its input
};

}  // namespace es::transcode
