#pragma once
// Internal to the transcoder (src/core/transcode/): a read-only view of simdjson's DOM tape, which the
// DOM path walks.

#include <cstdint>
#include <cstring>
#include <string_view>

#include <simdjson.h>

namespace es::transcode {

// simdjson's doc/tape.md; dom::document's `tape` and `string_buf` are public members: one 64-bit word
// per value, its type character in the top byte. Strings: the low 56 bits are an offset into
// string_buf, where a 32-bit length precedes the unescaped bytes. '{' and '[': the low 32 bits are the
// index just past the matching '}' or ']', bits 32..55 the number of fields or elements (saturating at
// 2^24 - 1). Numbers ('l', 'u', 'd') take a second word. The transcoder walks the tape itself: through
// dom::element every step re-checked its type in a call of its own, which was a third of the
// transcoder's instructions.
class Tape {
 public:
  Tape() = default;
  explicit Tape(const simdjson::dom::document& doc) noexcept
      : words_(doc.tape.get()), strings_(doc.string_buf.get()) {}

  /// The tape index of a document's root value.
  static constexpr std::uint32_t kRoot = 1;

  [[nodiscard]] char type(std::uint32_t i) const noexcept { return static_cast<char>(words_[i] >> 56); }
  /// Fields of the '{' or elements of the '[' at i (saturating).
  [[nodiscard]] std::uint32_t count(std::uint32_t i) const noexcept {
    return static_cast<std::uint32_t>(words_[i] >> 32) & 0xFFFFFFU;
  }
  /// The index of the value after the one that starts at i.
  [[nodiscard]] std::uint32_t after(std::uint32_t i) const noexcept {
    switch (type(i)) {
      case '{':
      case '[':
        return static_cast<std::uint32_t>(words_[i]);
      case 'l':
      case 'u':
      case 'd':
        return i + 2;
      default:
        return i + 1;
    }
  }
  /// The index of the '}' or ']' closing the '{' or '[' at i.
  [[nodiscard]] std::uint32_t close(std::uint32_t i) const noexcept {
    return static_cast<std::uint32_t>(words_[i]) - 1;
  }
  /// The string at i (whose type is '"').
  [[nodiscard]] std::string_view string(std::uint32_t i) const noexcept {
    const std::uint8_t* p = strings_ + (words_[i] & kPayloadMask);
    std::uint32_t n = 0;
    std::memcpy(&n, p, sizeof n);
    return {reinterpret_cast<const char*>(p + sizeof n), n};
  }

 private:
  static constexpr std::uint64_t kPayloadMask = 0x00FFFFFFFFFFFFFFULL;
  const std::uint64_t* words_ = nullptr;
  const std::uint8_t* strings_ = nullptr;
};

// The tape index of the "Items" value of a page's root object (which the caller checked has one).
[[nodiscard]] inline std::uint32_t items_index(const Tape& tape) noexcept {
  const std::uint32_t end = tape.close(Tape::kRoot);
  for (std::uint32_t i = Tape::kRoot + 1; i < end; i = tape.after(i + 1)) {
    if (tape.string(i) == "Items") return i + 1;
  }
  return end;
}

}  // namespace es::transcode
