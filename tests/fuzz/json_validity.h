#pragma once
// Shared by the fuzz targets: "is this text one valid JSON object?", with simdjson On-Demand for the
// structure, strings and UTF-8, and a grammar check for numbers (simdjson's DOM refuses integers
// beyond 64 bits and exponents beyond double's range, both of which the transcoder writes on purpose).

#include <string>
#include <string_view>

#include <simdjson.h>

namespace es::fuzz {

/// RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
inline bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  auto digit = [&](std::size_t at) { return at < s.size() && s[at] >= '0' && s[at] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

inline std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

inline bool is_valid_value(simdjson::ondemand::value value, int depth) {
  using simdjson::ondemand::json_type;
  if (depth > 200) return false;
  json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  switch (type) {
    case json_type::array: {
      simdjson::ondemand::array array;
      if (value.get_array().get(array) != simdjson::SUCCESS) return false;
      for (auto element : array) {
        simdjson::ondemand::value v;
        if (element.get(v) != simdjson::SUCCESS || !is_valid_value(v, depth + 1)) return false;
      }
      return true;
    }
    case json_type::object: {
      simdjson::ondemand::object object;
      if (value.get_object().get(object) != simdjson::SUCCESS) return false;
      for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
        simdjson::ondemand::value v;
        if (field.value().get(v) != simdjson::SUCCESS || !is_valid_value(v, depth + 1)) return false;
      }
      return true;
    }
    case json_type::number:
      return is_json_number(trim_json_space(value.raw_json_token()));
    case json_type::string: {
      std::string_view s;
      return value.get_string().get(s) == simdjson::SUCCESS;
    }
    case json_type::boolean: {
      bool b = false;
      return value.get_bool().get(b) == simdjson::SUCCESS;
    }
    case json_type::null: {
      bool null = false;
      return value.is_null().get(null) == simdjson::SUCCESS && null;
    }
  }
  return false;
}

/// True when text is exactly one JSON object (nothing after it but whitespace).
inline bool is_valid_json_object(std::string_view text) {
  static simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return false;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    simdjson::ondemand::value v;
    if (field.value().get(v) != simdjson::SUCCESS || !is_valid_value(v, 1)) return false;
  }
  // simdjson 3.0 has no document::at_end(): past the last token, current_location() is out of bounds.
  const char* rest = nullptr;
  return doc.current_location().get(rest) == simdjson::OUT_OF_BOUNDS;
}

}  // namespace es::fuzz
