#pragma once
// Internal to the transcoder (src/core/transcode/): the elements of an SS, NS or BS, written sorted.

#include <string_view>
#include <vector>

#include "core/json_text_internal.h"

namespace es::transcode {

// DynamoDB sets are unordered, so their elements are written sorted (see transcode.h): NS by numeric
// value, SS and BS bytewise. Each path collects a set's elements here, then writes them.
class SortedSet {
 public:
  void clear() noexcept { elements_.clear(); }
  void add(std::string_view element) { elements_.push_back(element); }

  /// Writes the elements (of an SS, NS or BS, by the type's first letter `kind`) as a sorted JSON
  /// array. False, with `bad` the element, when an NS element is not a number.
  [[nodiscard]] bool write(char kind, json_text::JsonOut& out, std::string_view& bad);

 private:
  std::vector<std::string_view> elements_;
};

}  // namespace es::transcode
