#pragma once
/// Appending JSON text to a std::string without a DOM: requests, summaries, manifests, logs.

#include <cstdint>
#include <string>
#include <string_view>

namespace es::json {

/// Appends s as a JSON string body (no quotes), escaping '"', '\\' and control characters (RFC 8259).
/// Bytes >= 0x80 are copied as they are (UTF-8 passes through).
void append_escaped(std::string& out, std::string_view s);

/// Appends "s" with quotes.
inline void append_string(std::string& out, std::string_view s) {
  out += '"';
  append_escaped(out, s);
  out += '"';
}

/// A minimal streaming writer that inserts commas itself. Not validating: callers pair begin/end.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer& begin_object() { return open('{'); }
  Writer& end_object() { return close('}'); }
  Writer& begin_array() { return open('['); }
  Writer& end_array() { return close(']'); }
  /// Object key; the next call writes its value.
  Writer& key(std::string_view k);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(std::int64_t v);
  Writer& value(std::uint64_t v);
  Writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  Writer& value(double v);
  Writer& value(bool v);
  Writer& null();
  /// Inserts already-valid JSON text as the next value.
  Writer& raw(std::string_view json);

 private:
  Writer& open(char c);
  Writer& close(char c);
  void separate();
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace es::json
