#include "core/transcode/json_cursor.h"

#include <charconv>
#include <system_error>

namespace es::transcode {

bool JsonCursor::unescape_text(JsonOut& values, std::string_view& text, const char* p) {
  if (p >= stop_ || *p != '\\') return false;
  if (unescaped_used_ == 0 && unescaped_capacity_ < page_size_) {
    // Unescaped strings are shorter than their JSON text: a page's all fit in its size. Allocated
    // when a page first has an escape, and left untouched (so not resident) where none come.
    unescaped_.reset(new char[page_size_]);
    unescaped_capacity_ = page_size_;
  }
  char* const begin = unescaped_.get() + unescaped_used_;
  char* out = begin;
  const char* from = cur_;
  for (;;) {
    std::memcpy(out, from, static_cast<std::size_t>(p - from));
    out += p - from;
    if (*p == '"') break;
    // *p is a backslash.
    if (stop_ - p < 2) return false;
    switch (p[1]) {
      case '"':
      case '\\':
      case '/':
        *out++ = p[1];
        break;
      case 'b':
        *out++ = '\b';
        break;
      case 'f':
        *out++ = '\f';
        break;
      case 'n':
        *out++ = '\n';
        break;
      case 'r':
        *out++ = '\r';
        break;
      case 't':
        *out++ = '\t';
        break;
      case 'u': {
        if (stop_ - p < 6) return false;
        std::uint32_t cp = 0;
        for (int i = 2; i < 6; ++i) {
          const char c = p[i];
          const int digit = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : -1;
          if (digit < 0) return false;
          cp = cp * 16 + static_cast<std::uint32_t>(digit);
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;
        if (cp < 0x80) {
          *out++ = static_cast<char>(cp);
        } else if (cp < 0x800) {
          *out++ = static_cast<char>(0xC0 | (cp >> 6));
          *out++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          *out++ = static_cast<char>(0xE0 | (cp >> 12));
          *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          *out++ = static_cast<char>(0x80 | (cp & 0x3F));
        }
        p += 4;
        break;
      }
      default:
        return false;
    }
    from = p + 2;
    p = scan_string(from);
    if (p >= stop_ || (*p != '"' && *p != '\\')) return false;
  }
  cur_ = p + 1;
  text = {begin, static_cast<std::size_t>(out - begin)};
  unescaped_used_ += text.size();
  json_text::write_json_string(values, text);
  return true;
}

bool JsonCursor::integer(std::int64_t& v) noexcept {
  peek();
  const char* p = cur_;
  const char* digits = p;
  std::int64_t n = 0;
  // A 19th digit refuses the count: only the first 18 are taken into n (where 19 could overflow).
  for (; p < stop_ && json_text::is_digit(*p) && p - digits < 19; ++p) {
    if (p - digits < 18) n = n * 10 + (*p - '0');
  }
  const auto count = p - digits;
  if (count == 0 || count > 18 || (count > 1 && *digits == '0')) return false;
  if (p < stop_ && (*p == '.' || *p == 'e' || *p == 'E' || json_text::is_digit(*p))) return false;
  v = n;
  cur_ = p;
  return true;
}

bool JsonCursor::number(double& v) noexcept {
  peek();
  const char* p = cur_;
  while (p < stop_ && p - cur_ <= 18 &&
         (json_text::is_digit(*p) || *p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E'))
    ++p;
  const std::string_view token(cur_, static_cast<std::size_t>(p - cur_));
  if (token.size() > 18 || !json_text::is_json_number(token)) return false;
  if (std::from_chars(token.data(), token.data() + token.size(), v).ec != std::errc()) return false;
  cur_ = p;
  return true;
}

bool JsonCursor::plain(int depth) noexcept {
  if (depth > kDirectDepth || cur_ >= stop_) return false;
  const auto next = [this](char c) noexcept {
    if (cur_ < stop_ && *cur_ == c) {
      ++cur_;
      return true;
    }
    return false;
  };
  std::string_view s;
  switch (*cur_) {
    case '"':
      return string(s);
    case 't':
    case 'f':
    case 'n':
      return literal("true") || literal("false") || literal("null");
    case '{':
      ++cur_;
      if (next('}')) return true;
      for (;;) {
        if (cur_ >= stop_ || *cur_ != '"' || !string(s) || !next(':') || !plain(depth + 1)) return false;
        if (next(',')) continue;
        return next('}');
      }
    case '[':
      ++cur_;
      if (next(']')) return true;
      for (;;) {
        if (!plain(depth + 1)) return false;
        if (next(',')) continue;
        return next(']');
      }
    default:
      return false;
  }
}

}  // namespace es::transcode
