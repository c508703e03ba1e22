#pragma once
// Internal to the transcoder (src/core/transcode/): byte helpers of the hot path, inline because a
// call to memcmp or memcpy for the few bytes of a name, a type key or a short value cost more than the
// work.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace es::transcode {

[[nodiscard]] inline std::uint32_t u32(std::size_t v) noexcept {
  return static_cast<std::uint32_t>(v);
}

// Three-way bytewise comparison with the first byte tested inline (names mostly differ there).
[[nodiscard]] inline int key_compare(std::string_view a, std::string_view b) noexcept {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]) ? -1 : 1;
  }
  const std::size_t n = std::min(a.size(), b.size());
  if (const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n); c != 0) return c;
  return a.size() < b.size() ? -1 : static_cast<int>(a.size() > b.size());
}

// Whether the n bytes at a and b are equal: inline, by two overlapping loads for n up to 16 (attribute
// names mostly), where memcmp would be a call.
[[nodiscard]] inline bool equal_bytes(const char* a, const char* b, std::size_t n) noexcept {
  const auto load8 = [](const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  const auto load4 = [](const char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) return ((load8(a) ^ load8(b)) | (load8(a + n - 8) ^ load8(b + n - 8))) == 0;
  if (n >= 4) return ((load4(a) ^ load4(b)) | (load4(a + n - 4) ^ load4(b + n - 4))) == 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), by two overlapping loads and stores.
template <class Word>
inline void copy_ends(char* d, const char* s, std::size_t n) noexcept {
  Word a;
  Word b;
  std::memcpy(&a, s, sizeof a);
  std::memcpy(&b, s + n - sizeof b, sizeof b);
  std::memcpy(d, &a, sizeof a);
  std::memcpy(d + n - sizeof b, &b, sizeof b);
}

// Copies n bytes inline when n is at most 16 (names, types, most values), where memcpy would be a
// call.
inline void copy_bytes(char* d, const char* s, std::size_t n) noexcept {
  if (n > 16) {
    std::memcpy(d, s, n);
  } else if (n >= 8) {
    copy_ends<std::uint64_t>(d, s, n);
  } else if (n >= 4) {
    copy_ends<std::uint32_t>(d, s, n);
  } else {
    for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
  }
}

}  // namespace es::transcode
