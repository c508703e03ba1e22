#pragma once
// Internal to the transcoder (src/core/transcode/): the names of an item's maps as they came and how
// they are written, remembered from one item to the next by both paths.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/transcode/bytes.h"

namespace es::transcode {

// The keys of a map as they came, and how they are written: remembered for the map at the same place
// in the previous item (the item itself, its first M, ...). A table's items mostly share their
// attributes and DynamoDB returns them in the same order, so the next item's map is matched against
// it key by key (one comparison each) instead of sorted again (a quarter of n^2), and its keys are
// written from `rendered` without checking them for escapes again.
struct Shape {
  std::string keys;                     // as they came, concatenated
  std::vector<std::uint32_t> key_ends;  // end of each in `keys`
  std::vector<std::uint32_t> order;     // order[i]: where the i-th key in sorted order came
  std::string rendered;                 // {"k0": then ,"k1": ... in sorted order
  std::vector<std::uint32_t> rendered_ends;
  bool plain = false;  // no key has a byte JSON escapes: each is its own JSON text between quotes

  [[nodiscard]] std::size_t size() const noexcept { return key_ends.size(); }
  [[nodiscard]] std::string_view key(std::size_t i) const noexcept {
    const std::uint32_t begin = i == 0 ? 0 : key_ends[i - 1];
    return {keys.data() + begin, key_ends[i] - begin};
  }
  [[nodiscard]] std::string_view rendered_key(std::size_t i) const noexcept {
    const std::uint32_t begin = i == 0 ? 0 : rendered_ends[i - 1];
    return {rendered.data() + begin, rendered_ends[i] - begin};
  }

  /// Whether the n fields `got` (anything with a `key`), as they came, have the remembered keys.
  template <class F>
  [[nodiscard]] bool matches(const F* got, std::size_t n) const noexcept {
    if (n != key_ends.size()) return false;
    std::uint32_t begin = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view key = got[i].key;
      if (key.size() != key_ends[i] - begin || !equal_bytes(key.data(), keys.data() + begin, key.size()))
        return false;
      begin = key_ends[i];
    }
    return true;
  }

  /// Remembers `sorted`, the n fields of a map sorted by key (without duplicates), each with its
  /// `key` and its place among the map's fields as they came (`index`).
  template <class F>
  void learn(const F* sorted, std::size_t n) {
    std::vector<std::string_view> came(n);
    order.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      came[sorted[i].index] = sorted[i].key;
      order[i] = sorted[i].index;
    }
    learn_keys(came);
  }

 private:
  // learn() once `order` is set: the keys as they `came`.
  void learn_keys(const std::vector<std::string_view>& came);
};

// The shapes of the first maps of an item, by their place in it (the order they open in).
class ShapeCache {
 public:
  // Maps of up to this many fields are remembered, the first kShapes of an item.
  static constexpr std::size_t kFields = 32;
  static constexpr std::size_t kShapes = 8;

  /// Starts an item: its first map is at place 0.
  void begin_item() noexcept { next_ = 0; }
  /// The place of the map that opens now.
  [[nodiscard]] std::size_t next_place() noexcept { return next_++; }
  /// The shape remembered at `place` for a map of n fields; null when such a map is not remembered
  /// (an empty map has nothing to remember: its shape would match any unlearnt slot).
  [[nodiscard]] Shape* slot(std::size_t place, std::size_t n) noexcept {
    return place < kShapes && n > 0 && n <= kFields ? &shapes_[place] : nullptr;
  }
  /// The shape remembered at `place` when its keys are plain, else null.
  [[nodiscard]] const Shape* plain(std::size_t place) const noexcept {
    return place < kShapes && shapes_[place].plain ? &shapes_[place] : nullptr;
  }

 private:
  std::array<Shape, kShapes> shapes_;
  std::size_t next_ = 0;  // the place of the item's next map
};

}  // namespace es::transcode
