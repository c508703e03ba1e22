#pragma once
// Internal to the transcoder (src/core/transcode/): JSON read straight from a page's bytes, token by
// token, for the direct path (direct_page_reader.h).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/json_text_internal.h"
#include "core/transcode/bytes.h"

namespace es::transcode {

/// How deep the direct path reads nested values (deeper ones go the DOM way).
inline constexpr int kDirectDepth = 16;

// A position in a page and what comes there. The page has simdjson's padding after its end: strings
// are scanned 16 bytes at a time, past the end into it. Each read returns false when what comes is
// not what it reads, or not what the direct path takes (which then hands the page over).
class JsonCursor {
 public:
  using JsonOut = json_text::JsonOut;

  /// Starts at the beginning of `page`, whose buffer has simdjson's padding after its end.
  void start(const std::string& page) noexcept {
    cur_ = page.data();
    stop_ = cur_ + page.size();
    page_size_ = page.size();
    unescaped_used_ = 0;
  }
  /// Whether nothing but whitespace is left.
  [[nodiscard]] bool at_end() noexcept { return peek() == '\0' && cur_ == stop_; }
  /// Where the cursor is, in the page.
  [[nodiscard]] const char* position() const noexcept { return cur_; }

  // Consumes c, after any whitespace.
  [[gnu::always_inline]] bool eat(char c) noexcept {
    if (cur_ < stop_ && *cur_ == c) [[likely]] {
      ++cur_;
      return true;
    }
    return eat_after_space(c);
  }
  // The next byte after any whitespace, not consumed; '\0' at the end.
  [[gnu::always_inline]] char peek() noexcept {
    if (cur_ < stop_ && !is_space(*cur_)) [[likely]] {
      return *cur_;
    }
    return peek_after_space();
  }
  // Consumes the byte peek() returned.
  void skip() noexcept { ++cur_; }

  // A string (after any whitespace) with nothing to unescape and no control character: its content,
  // which is then also its unescaped value and its JSON text as write_json_string writes it.
  [[gnu::always_inline]] bool string(std::string_view& s) noexcept {
    if (!eat('"')) return false;
    const char* p = scan_string(cur_);
    if (p >= stop_ || *p != '"') return false;
    s = {cur_, static_cast<std::size_t>(p - cur_)};
    cur_ = p + 1;
    return true;
  }

  // A name that is `expected` (after any whitespace), as string() reads it, compared where it should
  // be instead of looking for its closing quote. False, having read nothing, for any other.
  [[gnu::always_inline]] bool name(std::string_view expected, std::string_view& key) noexcept {
    const std::size_t n = expected.size();
    if (peek() == '"' && static_cast<std::size_t>(stop_ - cur_) > n + 1 && cur_[n + 1] == '"' &&
        equal_bytes(cur_ + 1, expected.data(), n)) {
      key = {cur_ + 1, n};
      cur_ += n + 2;
      return true;
    }
    return false;
  }

  // The type key of a typed value, as string() reads it; a one-letter key (S, N, M, L, ...) is taken
  // without looking for its end.
  [[gnu::always_inline]] bool type_key(std::string_view& type) noexcept {
    if (stop_ - cur_ >= 3 && cur_[0] == '"' && cur_[2] == '"' && cur_[1] != '"' && cur_[1] != '\\' &&
        static_cast<unsigned char>(cur_[1]) >= 0x20) [[likely]] {
      type = {cur_ + 1, 1};
      cur_ += 3;
      return true;
    }
    return string(type);
  }

  // A string value (of an S, a B, a set's element): its text (unescaped, then in the cursor's own
  // buffer, valid until start()) and, written into `values`, its JSON text as write_json_string
  // writes it: for a string without escapes, the string as it came. Escapes are undone as simdjson
  // does; a surrogate (\\uD800-\\uDFFF), an escape JSON does not have, or a control character
  // leaves the page to the DOM path.
  [[gnu::always_inline]] bool text(JsonOut& values, std::string_view& text) {
    if (peek() != '"') return false;
    const char* open = cur_++;
    const char* p = scan_string(cur_);
    if (p < stop_ && *p == '"') [[likely]] {
      text = {cur_, static_cast<std::size_t>(p - cur_)};
      cur_ = p + 1;
      const auto n = static_cast<std::size_t>(cur_ - open);
      copy_bytes(values.room(n), open, n);
      values.advance(n);
      return true;
    }
    return unescape_text(values, text, p);
  }

  // The bytes of `word` (true, false, null), after any whitespace.
  bool literal(std::string_view word) noexcept {
    peek();
    if (static_cast<std::size_t>(stop_ - cur_) < word.size() ||
        std::memcmp(cur_, word.data(), word.size()) != 0)
      return false;
    cur_ += word.size();
    return true;
  }

  // A count: digits alone (no sign, fraction or exponent), up to 18 of them, as get_int64 takes them.
  bool integer(std::int64_t& v) noexcept;
  // A JSON number of up to 18 characters (so not one simdjson finds too large) as a double.
  bool number(double& v) noexcept;
  // A value without whitespace, numbers or escapes (as DynamoDB writes a LastEvaluatedKey), so that
  // its bytes are what simdjson::to_string writes for it; `depth` is its own.
  bool plain(int depth) noexcept;

 private:
  static bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
  bool eat_after_space(char c) noexcept {
    while (cur_ < stop_ && is_space(*cur_)) ++cur_;
    if (cur_ < stop_ && *cur_ == c) {
      ++cur_;
      return true;
    }
    return false;
  }
  char peek_after_space() noexcept {
    while (cur_ < stop_ && is_space(*cur_)) ++cur_;
    return cur_ < stop_ ? *cur_ : '\0';
  }

  // The first '"', '\\' or control character at or after p, or stop_.
  [[gnu::always_inline]] const char* scan_string(const char* p) const noexcept {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i slash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1F);
    for (;; p += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, control_max), control_max);
      const int mask = _mm_movemask_epi8(
          _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, slash))));
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      if (p + 16 >= stop_) {
        p = stop_;
        break;
      }
    }
#else
    p += json_text::first_to_escape(p, static_cast<std::size_t>(stop_ - p), 0);
#endif
    return p < stop_ ? p : stop_;
  }

  // text() for a string with something to unescape at p.
  [[gnu::noinline]] bool unescape_text(JsonOut& values, std::string_view& text, const char* p);

  const char* cur_ = nullptr;          // the next byte of the page
  const char* stop_ = nullptr;         // the page's end
  std::size_t page_size_ = 0;          // bytes in the page
  std::unique_ptr<char[]> unescaped_;  // strings with escapes, undone (see text())
  std::size_t unescaped_capacity_ = 0;
  std::size_t unescaped_used_ = 0;
};

}  // namespace es::transcode
