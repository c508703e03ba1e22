#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/json_text_internal.h"
#include "core/transcode.h"

namespace es {
namespace json_text {

// The grammar of RFC 8259 numbers; true when text can be copied as is.
bool is_json_number(std::string_view s) noexcept {
  std::size_t p = 0;
  const std::size_t n = s.size();
  if (p < n && s[p] == '-') ++p;
  if (p >= n) return false;
  if (s[p] == '0') {
    ++p;
  } else if (s[p] >= '1' && s[p] <= '9') {
    while (p < n && is_digit(s[p])) ++p;
  } else {
    return false;
  }
  if (p < n && s[p] == '.') {
    const std::size_t start = ++p;
    while (p < n && is_digit(s[p])) ++p;
    if (p == start) return false;
  }
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
    const std::size_t start = p;
    while (p < n && is_digit(s[p])) ++p;
    if (p == start) return false;
  }
  return p == n;
}

bool split_decimal(std::string_view s, DecimalParts& out) noexcept {
  std::size_t p = 0;
  const std::size_t n = s.size();
  if (p < n && (s[p] == '+' || s[p] == '-')) out.negative = s[p++] == '-';
  std::size_t start = p;
  while (p < n && is_digit(s[p])) ++p;
  out.int_digits = s.substr(start, p - start);
  if (p < n && s[p] == '.') {
    start = ++p;
    while (p < n && is_digit(s[p])) ++p;
    out.frac_digits = s.substr(start, p - start);
  }
  if (out.int_digits.empty() && out.frac_digits.empty()) return false;
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    start = p++;
    if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
    const std::size_t digits = p;
    while (p < n && is_digit(s[p])) ++p;
    if (p == digits) return false;
    out.exponent = s.substr(start, p - start);
  }
  if (p != n) return false;
  while (out.int_digits.size() > 1 && out.int_digits[0] == '0') out.int_digits.remove_prefix(1);
  return true;
}

NumericKey numeric_key(std::string_view text) {
  DecimalParts parts;
  NumericKey key;
  if (!split_decimal(text, parts)) return key;
  std::int64_t exp = 0;
  bool exp_negative = false;
  for (char c : parts.exponent) {
    if (c == '-') exp_negative = true;
    // Clamped: exponents beyond a billion order the same way and cannot overflow here.
    if (is_digit(c) && exp < 1'000'000'000) exp = exp * 10 + (c - '0');
  }
  if (exp_negative) exp = -exp;
  std::int64_t point = static_cast<std::int64_t>(parts.int_digits.size());
  std::string all;
  all.append(parts.int_digits).append(parts.frac_digits);
  const std::size_t first = all.find_first_not_of('0');
  if (first == std::string::npos) return key;
  const std::size_t last = all.find_last_not_of('0');
  key.zero = false;
  key.negative = parts.negative;
  key.magnitude = point - static_cast<std::int64_t>(first) + exp;
  key.digits = all.substr(first, last - first + 1);
  return key;
}

bool numeric_less(const NumericKey& a, const NumericKey& b) {
  const int sa = a.zero ? 0 : (a.negative ? -1 : 1);
  const int sb = b.zero ? 0 : (b.negative ? -1 : 1);
  if (sa != sb) return sa < sb;
  if (sa == 0) return false;
  int cmp = 0;
  if (a.magnitude != b.magnitude) {
    cmp = a.magnitude < b.magnitude ? -1 : 1;
  } else {
    const int c = a.digits.compare(b.digits);
    cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return sa > 0 ? cmp < 0 : cmp > 0;
}

}  // namespace json_text

using json_text::is_digit;

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING, "kJsonPadding must cover simdjson's padding");

void ensure_json_padding(std::string& body) {
  if (body.capacity() - body.size() < kJsonPadding) body.reserve(body.size() + kJsonPadding);
}

bool append_json_number(std::string& out, std::string_view number) {
  return json_text::write_json_number(out, number);
}

void append_json_string(std::string& out, std::string_view s) {
  json_text::write_json_string(out, s);
}

bool is_base64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  std::size_t n = text.size();
  if (n > 0 && text[n - 1] == '=') --n;
  if (n > 0 && text[n - 1] == '=' && n == text.size() - 1) --n;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace es
