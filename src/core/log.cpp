#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <fmt/format.h>
#include <unistd.h>

#include "core/json_writer.h"

namespace es::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_sink_mutex;
Sink g_sink;  // guarded by g_sink_mutex

void append_timestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1'000'000);
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
  std::string lower;
  for (char c : text) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  if (lower == "debug")
    out = Level::kDebug;
  else if (lower == "info")
    out = Level::kInfo;
  else if (lower == "warn" || lower == "warning")
    out = Level::kWarn;
  else if (lower == "error")
    out = Level::kError;
  else if (lower == "off")
    out = Level::kOff;
  else
    return false;
  return true;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

void set_level(Level l) {
  g_level.store(l, std::memory_order_relaxed);
}
Level level() {
  return g_level.load(std::memory_order_relaxed);
}

void set_sink(Sink sink) {
  std::lock_guard lock(g_sink_mutex);
  g_sink = std::move(sink);
}

void append_json_escaped(std::string& out, std::string_view s) {
  json::append_escaped(out, s);
}

void write(Level lvl, std::string_view event, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(128);
  line += "{\"ts\":\"";
  append_timestamp(line);
  line += "\",\"level\":\"";
  line += level_name(lvl);
  line += "\",\"event\":\"";
  append_json_escaped(line, event);
  line += '"';
  for (const Field& f : fields) {
    line += ",\"";
    append_json_escaped(line, f.key);
    line += "\":";
    std::visit(
        [&line](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) {
            line += '"';
            append_json_escaped(line, v);
            line += '"';
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_same_v<V, double>) {
            fmt::format_to(std::back_inserter(line), "{}", v);
          } else {
            fmt::format_to(std::back_inserter(line), "{}", v);
          }
        },
        f.value);
  }
  line += '}';
  std::lock_guard lock(g_sink_mutex);
  if (g_sink) {
    g_sink(line);
  } else {
    line += '\n';
    // One write(2) per line so that lines from threads and processes never interleave.
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
}

}  // namespace es::log
