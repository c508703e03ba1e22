#include "core/json_writer.h"

#include <fmt/format.h>

namespace es::json {
namespace {
constexpr char kHex[] = "0123456789abcdef";
}

void append_escaped(std::string& out, std::string_view s) {
  std::size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

void Writer::separate() {
  if (need_comma_) out_ += ',';
}

Writer& Writer::open(char c) {
  separate();
  out_ += c;
  need_comma_ = false;
  return *this;
}

Writer& Writer::close(char c) {
  out_ += c;
  need_comma_ = true;
  return *this;
}

Writer& Writer::key(std::string_view k) {
  separate();
  append_string(out_, k);
  out_ += ':';
  need_comma_ = false;
  return *this;
}

Writer& Writer::value(std::string_view s) {
  separate();
  append_string(out_, s);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(std::int64_t v) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(std::uint64_t v) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(double v) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", v);
  need_comma_ = true;
  return *this;
}

Writer& Writer::value(bool v) {
  separate();
  out_ += v ? "true" : "false";
  need_comma_ = true;
  return *this;
}

Writer& Writer::null() {
  separate();
  out_ += "null";
  need_comma_ = true;
  return *this;
}

Writer& Writer::raw(std::string_view json) {
  separate();
  out_ += json;
  need_comma_ = true;
  return *this;
}

}  // namespace es::json
