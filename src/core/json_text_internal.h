#pragma once
// Internal to core (not part of any interface): the JSON text primitives shared by the transcoder
// (src/core/transcode/) and the public helpers in json_text.cpp. Kept in one place so that the hot path
// can inline them.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace es::json_text {

constexpr std::array<std::uint8_t, 256> make_escape_table() {
  std::array<std::uint8_t, 256> t{};
  for (std::size_t c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  return t;
}
/// 1 for the bytes a JSON string must escape: '"', '\\' and U+0000..U+001F.
inline constexpr std::array<std::uint8_t, 256> kNeedsEscape = make_escape_table();

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Index of the first byte at or after `from` that JSON requires escaped ('"', '\\', < 0x20), or n.
// Strings are mostly clean, so 16 bytes are tested at a time with SSE2 (baseline on x86-64), or
// 8 at a time with SWAR elsewhere; a hit is then located exactly by the byte loop.
inline std::size_t first_to_escape(const char* data, std::size_t n, std::size_t from) noexcept {
  std::size_t i = from;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i slash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1F);
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    // x <= 0x1F unsigned  <=>  max(x, 0x1F) == 0x1F.
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, control_max), control_max);
    const __m128i hit =
        _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, slash)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#else
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, data + i, 8);
    // Flags bytes < 0x20, '"' and '\\' (the "has less-than / has zero" tricks); bytes above a hit
    // may be flagged falsely, which the exact loop below sorts out.
    const std::uint64_t hit =
        ((x - kOnes * 0x20) | ((x ^ (kOnes * '"')) - kOnes) | ((x ^ (kOnes * '\\')) - kOnes)) & ~x & kHigh;
    if (hit != 0) break;
  }
#endif
  for (; i < n; ++i) {
    if (kNeedsEscape[static_cast<unsigned char>(data[i])] != 0) return i;
  }
  return n;
}

// Whether any of the n bytes at src must be escaped; with kCopy, also copies them to dst on the way
// (dst has room for n bytes; past a hit its contents are unspecified). Exact, and without a byte loop
// for n >= 4: most strings of an item are short (names, ids, times), and a byte loop, then a memcpy
// call to copy them, were most of write_json_string's time. Every load stays within [src, src + n):
// the last one overlaps the one before, and so does its store.
template <bool kCopy>
inline bool scan_to_escape(const char* src, std::size_t n, [[maybe_unused]] char* dst) noexcept {
  // SWAR: a byte below 0x20, or equal to '"' or '\\', sets the high bit of its lane (a borrow may
  // also set lanes above a hit, which only matters for where, not whether).
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const auto flags = [](std::uint64_t x, std::uint64_t ones, std::uint64_t high) noexcept {
    return ((x - ones * 0x20) | ((x ^ (ones * '"')) - ones) | ((x ^ (ones * '\\')) - ones)) & ~x & high;
  };
  if (n >= 16) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i slash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1F);
    const auto clean = [&](std::size_t at) noexcept {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + at));
      const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, control_max), control_max);
      if (_mm_movemask_epi8(
              _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, slash)))) != 0) {
        return false;
      }
      if constexpr (kCopy) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + at), x);
      return true;
    };
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      if (!clean(i)) return true;
    }
    return i < n && !clean(n - 16);
#else
    if (first_to_escape(src, n, 0) != n) return true;
    if constexpr (kCopy) std::memcpy(dst, src, n);
    return false;
#endif
  }
  if (n >= 8) {
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    if ((flags(a, kOnes, kHigh) | flags(b, kOnes, kHigh)) != 0) return true;
    if constexpr (kCopy) {
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    }
    return false;
  }
  if (n >= 4) {
    std::uint32_t a;
    std::uint32_t b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    if ((flags(a, kOnes >> 32, kHigh >> 32) | flags(b, kOnes >> 32, kHigh >> 32)) != 0) return true;
    if constexpr (kCopy) {
      std::memcpy(dst, &a, 4);
      std::memcpy(dst + n - 4, &b, 4);
    }
    return false;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (kNeedsEscape[static_cast<unsigned char>(src[i])] != 0) return true;
    if constexpr (kCopy) dst[i] = src[i];
  }
  return false;
}

// Whether any of the n bytes at data must be escaped.
inline bool any_to_escape(const char* data, std::size_t n) noexcept {
  return scan_to_escape<false>(data, n, nullptr);
}

/// True when s matches the RFC 8259 number grammar exactly.
bool is_json_number(std::string_view s) noexcept;

/// A number split into its lexical parts, for normalizing and for ordering NS sets.
struct DecimalParts {
  bool negative = false;
  std::string_view int_digits;   ///< leading zeros removed
  std::string_view frac_digits;  ///< may be empty
  std::string_view exponent;     ///< "e+12" as written (marker, optional sign, digits) or ""
};
/// Splits [+-]digits[.digits][(e|E)[+-]digits] (either digit run may be empty, not both).
bool split_decimal(std::string_view s, DecimalParts& out) noexcept;

/// Orders numbers by value, exactly: sign, position of the first significant digit, digits.
struct NumericKey {
  bool negative = false;
  bool zero = true;
  std::int64_t magnitude = 0;  ///< decimal exponent of the first significant digit
  std::string digits;          ///< significant digits, no leading or trailing zeros
};
NumericKey numeric_key(std::string_view text);
bool numeric_less(const NumericKey& a, const NumericKey& b);

// Appends to a std::string used as a raw buffer: the string is grown (zero-filled) only when full and
// bytes are written through a pointer, since std::string::push_back is not inlined and dominated the
// profile. size() is the logical end; the string's own size is the high-water mark.
class JsonOut {
 public:
  JsonOut(std::string& buf, std::size_t pos) noexcept
      : buf_(buf), data_(buf.data()), cap_(buf.size()), pos_(pos) {}
  [[gnu::always_inline]] void operator+=(char c) {
    if (pos_ == cap_) grow(1);
    data_[pos_++] = c;
  }
  [[gnu::always_inline]] void append(const char* p, std::size_t n) {
    if (n == 0) return;  // p may be null for an empty view, which memcpy must not see
    if (n > cap_ - pos_) grow(n);
    std::memcpy(data_ + pos_, p, n);
    pos_ += n;
  }
  [[gnu::always_inline]] void append(std::string_view s) { append(s.data(), s.size()); }
  /// Room for n bytes at the end, to fill and then advance() past.
  [[gnu::always_inline]] char* room(std::size_t n) {
    if (n > cap_ - pos_) grow(n);
    return data_ + pos_;
  }
  void advance(std::size_t n) noexcept { pos_ += n; }
  [[nodiscard]] std::size_t size() const noexcept { return pos_; }
  void truncate(std::size_t pos) noexcept { pos_ = pos; }

 private:
  [[gnu::noinline]] void grow(std::size_t n) {
    buf_.resize(std::max({buf_.size() * 2, pos_ + n, std::size_t{4096}}));
    data_ = buf_.data();
    cap_ = buf_.size();
  }
  std::string& buf_;
  char* data_;
  std::size_t cap_;
  std::size_t pos_;
};

template <class Out>
bool write_json_number(Out& out, std::string_view number) {
  if (is_json_number(number)) {
    out.append(number);
    return true;
  }
  DecimalParts parts;
  if (!split_decimal(number, parts)) return false;
  if (parts.negative) out += '-';
  if (parts.int_digits.empty()) {
    out += '0';
  } else {
    out.append(parts.int_digits);
  }
  if (!parts.frac_digits.empty()) {
    out += '.';
    out.append(parts.frac_digits);
  }
  out.append(parts.exponent);
  return true;
}

// The slow path of write_json_string(): s has at least one byte to escape.
template <class Out>
[[gnu::noinline]] void write_escaped_json_string(Out& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* data = s.data();
  const std::size_t n = s.size();
  std::size_t i = first_to_escape(data, n, 0);
  out += '"';
  std::size_t start = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(data[i]);
    out.append(data + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"", 2);
        break;
      case '\\':
        out.append("\\\\", 2);
        break;
      case '\b':
        out.append("\\b", 2);
        break;
      case '\f':
        out.append("\\f", 2);
        break;
      case '\n':
        out.append("\\n", 2);
        break;
      case '\r':
        out.append("\\r", 2);
        break;
      case '\t':
        out.append("\\t", 2);
        break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, sizeof esc);
      }
    }
    i = first_to_escape(data, n, i + 1);
  }
  out.append(data + start, n - start);
  out += '"';
}

/// Appends s as a JSON string: quoted, with '"', '\\' and control characters escaped.
template <class Out>
inline void write_json_string(Out& out, std::string_view s) {
  if constexpr (std::is_same_v<Out, JsonOut>) {
    // Copied while checked: one pass over the bytes, and no memcpy call for a short string.
    char* d = out.room(s.size() + 2);
    if (!scan_to_escape<true>(s.data(), s.size(), d + 1)) {
      d[0] = '"';
      d[s.size() + 1] = '"';
      out.advance(s.size() + 2);
      return;
    }
  } else if (!any_to_escape(s.data(), s.size())) {
    out += '"';
    out.append(s);
    out += '"';
    return;
  }
  write_escaped_json_string(out, s);
}

}  // namespace es::json_text
