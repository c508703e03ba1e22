#pragma once
/// Structured logs: one JSON object per line on stderr ({"ts":..,"level":..,"event":..,...fields}).
///
/// Logging never receives secrets: callers pass only what they mean to show, and the AWS layer
/// strips Authorization and X-Amz-Security-Token before logging any request.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace es::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

/// Parses "debug", "info", "warn"/"warning", "error", "off" (case-insensitive).
bool parse_level(std::string_view text, Level& out);
std::string_view level_name(Level level);

struct Field {
  using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
};

/// Receives each finished line (without the trailing newline). Default: write to stderr.
using Sink = std::function<void(std::string_view line)>;

void set_level(Level level);
Level level();
/// Replaces the sink (tests capture lines); an empty Sink restores stderr.
void set_sink(Sink sink);
[[nodiscard]] inline bool enabled(Level l) {
  return l >= level();
}

/// Emits one line when level is enabled. Thread-safe; each line is written with one call.
void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kInfo)) write(Level::kInfo, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kWarn)) write(Level::kWarn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kError)) write(Level::kError, event, fields);
}

/// Appends s to out as a JSON string body (no surrounding quotes), escaping per RFC 8259.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace es::log
